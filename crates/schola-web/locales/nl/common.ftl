# Paginakader, aanmelden, fouten en de wachtkamer.
language-name = Nederlands
skip-to-content = Naar de inhoud
nav-main = Hoofdmenu
nav-account = Account
nav-start = Start
nav-profile = Profiel
nav-admin = Beheer
sign-out = Afmelden
footer-version = Schola { $version }
back-to-start = Terug naar de startpagina

login-title = Aanmelden
login-field = Gebruikersnaam
password-field = Wachtwoord
login-submit = Aanmelden
login-expired = Het aanmeldformulier was verlopen. Vul je wachtwoord opnieuw in.
login-wrong = De gebruikersnaam of het wachtwoord is onjuist.
login-wait = Te veel verkeerde wachtwoorden. Wacht { $secs } seconden en probeer het dan opnieuw.
signout-expired = Het afmeldformulier was verlopen; laad de pagina opnieuw.

busy-title = Een ogenblik geduld
busy-text = Er melden zich nu heel veel mensen aan. Deze pagina probeert het over { $secs } seconden vanzelf opnieuw; je hoeft niet te herladen.

error-title = Er ging iets mis
error-text = De server kon dit verzoek niet uitvoeren. De details staan in het logboek van de server.
not-found-title = Niet gevonden
not-found-text = Op dit adres staat geen pagina.
forbidden-title = Niet toegestaan
forbidden-text = Deze pagina is voor de beheerders van de school.
form-expired = Het formulier was verlopen. Vul het opnieuw in.

role-student = Leerling
role-teacher = Leerkracht
role-staff = Medewerker
role-admin = Beheerder
status-active = actief
status-disabled = geblokkeerd
kind-class = klas
kind-course = cursus
kind-staff = personeel
kind-custom = groep
role-student-count = { $count ->
    [one] { $n } leerling
   *[other] { $n } leerlingen
}
role-teacher-count = { $count ->
    [one] { $n } leerkracht
   *[other] { $n } leerkrachten
}
role-staff-count = { $count ->
    [one] { $n } medewerker
   *[other] { $n } medewerkers
}
role-admin-count = { $count ->
    [one] { $n } beheerder
   *[other] { $n } beheerders
}
