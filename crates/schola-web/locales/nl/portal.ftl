# Startpagina en profiel voor leerlingen, leerkrachten en medewerkers.
home-title = Start
home-welcome = Welkom, { $name }
notices-title = Mededelingen
owned-title = Klassen en groepen waaraan je lesgeeft
members-count = { $count ->
    [one] { $n } lid
   *[other] { $n } leden
}
class-and-groups-title = Je klas en groepen
groups-title = Je groepen
services-title = Diensten
tile-mail = E-mail
tile-mail-text = Je schoolmail: lezen, schrijven, beantwoorden.
tile-files = Bestanden
tile-off = Nog niet ingeschakeld.
tile-profile = Je account
tile-profile-text = Wachtwoord, taal en je gegevens.

profile-title = Je account
profile-facts = Je gegevens
fact-login = Gebruikersnaam
fact-role = Rol
fact-mail = E-mailadres
fact-name = Naam
language-title = Taal
language-field = Taal van de pagina's
language-browser = Zoals mijn browser vraagt
language-save = Taal opslaan
language-saved = De taal is opgeslagen.
password-title = Wachtwoord wijzigen
password-current = Huidig wachtwoord
password-new = Nieuw wachtwoord
password-new-hint = Minstens { $min } tekens.
password-confirm = Nieuw wachtwoord nogmaals
password-save = Wachtwoord wijzigen
password-changed = Je wachtwoord is gewijzigd. Overal elders ben je afgemeld.
password-wrong-current = Het huidige wachtwoord is onjuist.
passwords-differ = De twee nieuwe wachtwoorden zijn verschillend.
password-too-short = Het wachtwoord moet minstens { $min } tekens hebben (het heeft er { $has }).
password-too-long = Het wachtwoord mag hoogstens { $max } tekens hebben.
password-control = Het wachtwoord bevat een stuurteken.
password-contains-login = Het wachtwoord mag de gebruikersnaam niet bevatten.
password-too-easy = Dit wachtwoord is te makkelijk te raden.
