# Verwaltung: Gruppen und Klassen (Liste, Seite einer Gruppe, Sammelaktionen).
groups-page-title = Gruppen und Klassen
groups-list-title = Alle Gruppen und Klassen
groups-none = Es gibt noch keine Gruppen oder Klassen.
groups-new-title = Neue Gruppe oder Klasse
groups-name-field = Kurzname
groups-name-hint = 1 bis 32 Zeichen a–z, 0–9, „.“, „-“ oder „_“, beginnend mit Buchstabe oder Ziffer, z. B. 5a. Freigaben und Verteiler verwenden ihn.
groups-display-field = Anzeigename (freiwillig)
groups-display-hint = Zum Beispiel „Klasse 5a“. Bleibt das Feld leer, wird der Kurzname angezeigt.
groups-kind-field = Art
groups-create-submit = Anlegen
groups-about = Kurzname { $name } · { $kind }
groups-members-title = Mitglieder
groups-new-person = Neue Person in dieser Gruppe
groups-no-members = Noch keine Mitglieder.
groups-all = Alle
groups-action-field = Mit den ausgewählten Mitgliedern
groups-action-choose = bitte wählen …
groups-action-reset = Passwörter zurücksetzen (Liste zum Drucken)
groups-action-disable = Konten deaktivieren
groups-action-enable = Konten aktivieren
groups-action-remove = aus dieser Gruppe entfernen
groups-apply = Ausführen
groups-owners-title = Leitung
groups-no-owners = Diese Gruppe hat noch keine Leitung.
groups-remove-owner = { $name } entfernen
groups-add-title = Person hinzufügen
groups-add-submit = Hinzufügen
groups-passwords-title = Neue Passwörter: { $group }
groups-passwords-text = Diese Passwörter werden nur dieses eine Mal angezeigt: Drucke die Seite jetzt und gib jeder Person ihre Zeile. Die alten Passwörter gelten nicht mehr, und alle auf der Liste wurden abgemeldet.
groups-col-password = Neues Passwort
groups-back = Zurück zu { $group }
groups-created = Die Gruppe ist angelegt. Füge unten ihre Mitglieder hinzu.
groups-added = Hinzugefügt.
groups-removed = Entfernt.
groups-bulk-disabled = { $count ->
    [one] { $n } Konto deaktiviert.
   *[other] { $n } Konten deaktiviert.
}
groups-bulk-enabled = { $count ->
    [one] { $n } Konto aktiviert.
   *[other] { $n } Konten aktiviert.
}
groups-bulk-removed = { $count ->
    [one] { $n } Person aus der Gruppe entfernt.
   *[other] { $n } Personen aus der Gruppe entfernt.
}
groups-bulk-none = Wähle mindestens ein Mitglied aus (oder „Alle“).
groups-bulk-no-action = Wähle aus, was mit den ausgewählten Mitgliedern geschehen soll.
