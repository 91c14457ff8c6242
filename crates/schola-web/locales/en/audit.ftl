# The audit log page (admin).
audit-title = Audit log
audit-list-title = Entries
audit-search-field = Search
audit-search-help = The search looks at the action, who did it and what it was done to.
audit-action-field = Action
audit-action-all = all
audit-from-field = From
audit-to-field = Until
audit-filter-submit = Filter
audit-match = { $count ->
    [one] { $n } entry matches
   *[other] { $n } entries match
}
audit-col-when = When
audit-col-actor = Who
audit-col-action = Action
audit-col-target = What
audit-col-detail = Details
audit-from-address = from { $addr }
audit-day-malformed = “{ $value }” is not a date; write it as YYYY-MM-DD, e.g. 2026-09-01. It was left out of the search.
audit-days-reversed = The “until” day is before the “from” day, so no entry can match.
