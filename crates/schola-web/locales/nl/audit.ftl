# Het auditlog (beheer).
audit-title = Auditlog
audit-list-title = Regels
audit-search-field = Zoeken
audit-search-help = De zoekopdracht kijkt naar de actie, wie ze uitvoerde en waarop.
audit-action-field = Actie
audit-action-all = alle
audit-from-field = Van
audit-to-field = Tot en met
audit-filter-submit = Filteren
audit-match = { $count ->
    [one] { $n } regel gevonden
   *[other] { $n } regels gevonden
}
audit-col-when = Wanneer
audit-col-actor = Wie
audit-col-action = Actie
audit-col-target = Waarop
audit-col-detail = Details
audit-from-address = vanaf { $addr }
audit-day-malformed = ‘{ $value }’ is geen datum; schrijf hem als JJJJ-MM-DD, bijvoorbeeld 2026-09-01. Hij is bij het zoeken weggelaten.
audit-days-reversed = De dag ‘tot en met’ ligt vóór de dag ‘van’, dus geen enkele regel kan overeenkomen.
