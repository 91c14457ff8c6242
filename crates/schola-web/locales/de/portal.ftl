# Startseite und Profil für Schüler/innen, Lehrkräfte und Mitarbeiter/innen.
home-title = Start
home-welcome = Willkommen, { $name }
notices-title = Mitteilungen
owned-title = Deine Klassen und Gruppen als Lehrkraft
members-count = { $count ->
    [one] { $n } Mitglied
   *[other] { $n } Mitglieder
}
class-and-groups-title = Deine Klasse und Gruppen
groups-title = Deine Gruppen
services-title = Dienste
tile-mail = E-Mail
tile-mail-text = Deine Schul-E-Mail: lesen, schreiben, antworten.
tile-files = Dateien
tile-off = Noch nicht eingeschaltet.
tile-profile = Dein Konto
tile-profile-text = Passwort, Sprache und deine Angaben.

profile-title = Dein Konto
profile-facts = Deine Angaben
fact-login = Benutzername
fact-role = Rolle
fact-mail = E-Mail-Adresse
fact-name = Name
language-title = Sprache
language-field = Sprache der Seiten
language-browser = Wie mein Browser es wünscht
language-save = Sprache speichern
language-saved = Die Sprache wurde gespeichert.
password-title = Passwort ändern
password-current = Jetziges Passwort
password-new = Neues Passwort
password-new-hint = Mindestens { $min } Zeichen.
password-confirm = Neues Passwort noch einmal
password-save = Passwort ändern
password-changed = Dein Passwort wurde geändert. Überall sonst wurdest du abgemeldet.
password-wrong-current = Das jetzige Passwort ist falsch.
passwords-differ = Die beiden neuen Passwörter sind verschieden.
password-too-short = Das Passwort muss mindestens { $min } Zeichen haben (es hat { $has }).
password-too-long = Das Passwort darf höchstens { $max } Zeichen haben.
password-control = Das Passwort enthält ein Steuerzeichen.
password-contains-login = Das Passwort darf den Benutzernamen nicht enthalten.
password-too-easy = Dieses Passwort ist zu leicht zu erraten.
