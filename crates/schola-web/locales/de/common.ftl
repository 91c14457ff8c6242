# Seitenrahmen, Anmeldung, Fehler und Warteraum.
language-name = Deutsch
skip-to-content = Zum Inhalt springen
nav-main = Hauptmenü
nav-account = Konto
nav-start = Start
nav-profile = Profil
nav-admin = Verwaltung
sign-out = Abmelden
footer-version = Schola { $version }
back-to-start = Zurück zur Startseite

login-title = Anmelden
login-field = Benutzername
password-field = Passwort
login-submit = Anmelden
login-expired = Das Anmeldeformular war abgelaufen. Bitte gib dein Passwort noch einmal ein.
login-wrong = Benutzername oder Passwort ist falsch.
login-wait = Zu viele falsche Passwörter. Bitte warte { $secs } Sekunden und versuche es dann noch einmal.
signout-expired = Das Abmeldeformular war abgelaufen; bitte lade die Seite neu.

busy-title = Einen Moment bitte
busy-text = Gerade melden sich sehr viele Personen an. Diese Seite versucht es in { $secs } Sekunden von selbst noch einmal; du musst sie nicht neu laden.

error-title = Etwas ist schiefgegangen
error-text = Der Server konnte diese Anfrage nicht ausführen. Die Einzelheiten stehen im Protokoll des Servers.
not-found-title = Nicht gefunden
not-found-text = Unter dieser Adresse gibt es keine Seite.
forbidden-title = Nicht erlaubt
forbidden-text = Diese Seite ist für die Administratorinnen und Administratoren der Schule.
form-expired = Das Formular war abgelaufen. Bitte fülle es noch einmal aus.

role-student = Schüler/in
role-teacher = Lehrkraft
role-staff = Mitarbeiter/in
role-admin = Administrator/in
status-active = aktiv
status-disabled = gesperrt
kind-class = Klasse
kind-course = Kurs
kind-staff = Kollegium
kind-custom = Gruppe
role-student-count = { $count ->
    [one] { $n } Schüler/in
   *[other] { $n } Schüler/innen
}
role-teacher-count = { $count ->
    [one] { $n } Lehrkraft
   *[other] { $n } Lehrkräfte
}
role-staff-count = { $count ->
    [one] { $n } Mitarbeiter/in
   *[other] { $n } Mitarbeiter/innen
}
role-admin-count = { $count ->
    [one] { $n } Administrator/in
   *[other] { $n } Administrator/innen
}
