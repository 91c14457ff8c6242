# Verwaltung: Übersicht.
admin-title = Verwaltung
admin-nav = Verwaltung
admin-nav-people = Personen
admin-nav-backup = Datensicherung
admin-nav-updates = Aktualisierungen
admin-nav-groups = Gruppen
admin-nav-notices = Mitteilungen
admin-nav-audit = Protokoll
admin-nav-services = Dienste
admin-nav-settings = Einstellungen
admin-nav-capacity = Kapazität
active-accounts = Aktive Konten
people-title = Personen
search-field = Suche
role-field = Rolle
role-all = alle
filter-submit = Filtern
col-login = Benutzername
col-name = Name
col-role = Rolle
col-status = Status
col-mail = E-Mail
people-match = { $count ->
    [one] { $n } Person gefunden
   *[other] { $n } Personen gefunden
}
page-of = Seite { $page } von { $pages }
page-prev = Zurück
page-next = Weiter
pages-nav = Seiten
groups-admin-title = Gruppen
col-kind = Art
col-members = Mitglieder
col-owners = Leitung
