# Beheer: overzicht.
admin-title = Beheer
admin-nav = Beheer
admin-nav-people = Personen
admin-nav-backup = Back-up
admin-nav-updates = Updates
admin-nav-groups = Groepen
admin-nav-notices = Mededelingen
admin-nav-audit = Auditlog
admin-nav-services = Diensten
admin-nav-settings = Instellingen
admin-nav-capacity = Capaciteit
active-accounts = Actieve accounts
people-title = Personen
search-field = Zoeken
role-field = Rol
role-all = alle
filter-submit = Filteren
col-login = Gebruikersnaam
col-name = Naam
col-role = Rol
col-status = Status
col-mail = E-mail
people-match = { $count ->
    [one] { $n } persoon gevonden
   *[other] { $n } personen gevonden
}
page-of = Pagina { $page } van { $pages }
page-prev = Vorige
page-next = Volgende
pages-nav = Pagina's
groups-admin-title = Groepen
col-kind = Soort
col-members = Leden
col-owners = Eigenaars
