# Eerste installatie.
setup-page-title = Eerste installatie
setup-title = Je schoolserver instellen
setup-intro = Deze server heeft nog geen beheerder. Vul de installatiecode in die op de console van de server staat (of in { $path }), de naam en het maildomein van je school en een wachtwoord voor het beheerdersaccount.
setup-code = Installatiecode
setup-school-name = Naam van de school
setup-mail-domain = Maildomein
setup-admin-login = Gebruikersnaam van de beheerder
setup-admin-password = Wachtwoord van de beheerder
setup-password-again = Wachtwoord nogmaals
setup-submit = Instellen
setup-wrong-code = De installatiecode is onjuist. Ze staat op de console van de server.
setup-default-language = Standaardtaal
setup-default-language-hint = Voor mensen van wie de browser geen van de talen van Schola vraagt.
