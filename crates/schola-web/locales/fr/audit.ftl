# Le journal d'audit (administration).
audit-title = Journal d'audit
audit-list-title = Entrées
audit-search-field = Recherche
audit-search-help = La recherche porte sur l'action, sur qui l'a faite et sur quoi.
audit-action-field = Action
audit-action-all = toutes
audit-from-field = Du
audit-to-field = Au
audit-filter-submit = Filtrer
audit-match = { $count ->
    [one] { $n } entrée trouvée
   *[other] { $n } entrées trouvées
}
audit-col-when = Quand
audit-col-actor = Qui
audit-col-action = Action
audit-col-target = Sur quoi
audit-col-detail = Détails
audit-from-address = depuis { $addr }
audit-day-malformed = « { $value } » n'est pas une date ; écris-la sous la forme AAAA-MM-JJ, par exemple 2026-09-01. Elle n'a pas été prise en compte.
audit-days-reversed = Le jour « au » précède le jour « du » : aucune entrée ne peut correspondre.
