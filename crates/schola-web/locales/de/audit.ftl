# Das Protokoll (Verwaltung).
audit-title = Protokoll
audit-list-title = Einträge
audit-search-field = Suche
audit-search-help = Die Suche schaut in die Aktion, wer sie ausgeführt hat und woran.
audit-action-field = Aktion
audit-action-all = alle
audit-from-field = Von
audit-to-field = Bis
audit-filter-submit = Filtern
audit-match = { $count ->
    [one] { $n } Eintrag gefunden
   *[other] { $n } Einträge gefunden
}
audit-col-when = Wann
audit-col-actor = Wer
audit-col-action = Aktion
audit-col-target = Woran
audit-col-detail = Einzelheiten
audit-from-address = von { $addr }
audit-day-malformed = „{ $value }“ ist kein Datum; schreib es als JJJJ-MM-TT, z. B. 2026-09-01. Es wurde bei der Suche weggelassen.
audit-days-reversed = Der Bis-Tag liegt vor dem Von-Tag, daher kann kein Eintrag passen.
