# Ersteinrichtung.
setup-page-title = Ersteinrichtung
setup-title = Schulserver einrichten
setup-intro = Dieser Server hat noch keine Administration. Gib den Einrichtungscode ein, der auf der Konsole des Servers steht (oder in { $path }), den Namen und die Mail-Domain deiner Schule und ein Passwort für das Administrationskonto.
setup-code = Einrichtungscode
setup-school-name = Name der Schule
setup-mail-domain = Mail-Domain
setup-admin-login = Benutzername der Administration
setup-admin-password = Passwort der Administration
setup-password-again = Passwort noch einmal
setup-submit = Einrichten
setup-wrong-code = Der Einrichtungscode ist falsch. Er steht auf der Konsole des Servers.
setup-default-language = Standardsprache
setup-default-language-hint = Für Personen, deren Browser keine der Sprachen von Schola wünscht.
