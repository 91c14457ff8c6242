# Beheer: groepen en klassen (lijst, pagina van een groep, bulkacties).
groups-page-title = Groepen en klassen
groups-list-title = Alle groepen en klassen
groups-none = Er zijn nog geen groepen of klassen.
groups-new-title = Nieuwe groep of klas
groups-name-field = Korte naam
groups-name-hint = 1 tot 32 tekens a–z, 0–9, ‘.’, ‘-’ of ‘_’, beginnend met een letter of cijfer, bijv. 5a. Gedeelde mappen en mailinglijsten gebruiken hem.
groups-display-field = Weergavenaam (optioneel)
groups-display-hint = Bijvoorbeeld ‘Klas 5a’. Leeg gelaten wordt de korte naam getoond.
groups-kind-field = Soort
groups-create-submit = Aanmaken
groups-about = Korte naam { $name } · { $kind }
groups-members-title = Leden
groups-new-person = Nieuwe persoon in deze groep
groups-no-members = Nog geen leden.
groups-all = Alle
groups-action-field = Met de gekozen leden
groups-action-choose = kies …
groups-action-reset = wachtwoorden opnieuw instellen (lijst om af te drukken)
groups-action-disable = accounts uitschakelen
groups-action-enable = accounts inschakelen
groups-action-remove = uit deze groep verwijderen
groups-apply = Uitvoeren
groups-owners-title = Leiding
groups-no-owners = Deze groep heeft nog geen leiding.
groups-remove-owner = { $name } verwijderen
groups-add-title = Persoon toevoegen
groups-add-submit = Toevoegen
groups-passwords-title = Nieuwe wachtwoorden: { $group }
groups-passwords-text = Deze wachtwoorden worden maar één keer getoond: druk deze pagina nu af en geef iedereen de eigen regel. De oude wachtwoorden werken niet meer en iedereen op de lijst is afgemeld.
groups-col-password = Nieuw wachtwoord
groups-back = Terug naar { $group }
groups-created = De groep is aangemaakt. Voeg hieronder de leden toe.
groups-added = Toegevoegd.
groups-removed = Verwijderd.
groups-bulk-disabled = { $count ->
    [one] { $n } account uitgeschakeld.
   *[other] { $n } accounts uitgeschakeld.
}
groups-bulk-enabled = { $count ->
    [one] { $n } account ingeschakeld.
   *[other] { $n } accounts ingeschakeld.
}
groups-bulk-removed = { $count ->
    [one] { $n } persoon uit de groep verwijderd.
   *[other] { $n } personen uit de groep verwijderd.
}
groups-bulk-none = Kies ten minste één lid (of ‘Alle’).
groups-bulk-no-action = Kies wat er met de gekozen leden moet gebeuren.
