# Administration: groups and classes (the list, a group's page, bulk actions).
groups-page-title = Groups and classes
groups-list-title = All groups and classes
groups-none = There are no groups or classes yet.
groups-new-title = New group or class
groups-name-field = Short name
groups-name-hint = 1 to 32 characters a–z, 0–9, “.”, “-” or “_”, starting with a letter or digit, e.g. 5a. Shares and mailing lists use it.
groups-display-field = Display name (optional)
groups-display-hint = For example “Class 5a”. Left empty, the short name is shown.
groups-kind-field = Kind
groups-create-submit = Create
groups-about = Short name { $name } · { $kind }
groups-members-title = Members
groups-new-person = New person in this group
groups-no-members = No members yet.
groups-all = All
groups-action-field = With the chosen members
groups-action-choose = choose…
groups-action-reset = reset passwords (printable list)
groups-action-disable = disable accounts
groups-action-enable = enable accounts
groups-action-remove = remove from this group
groups-apply = Apply
groups-owners-title = Led by
groups-no-owners = Nobody leads this group yet.
groups-remove-owner = Remove { $name }
groups-add-title = Add a person
groups-add-submit = Add
groups-passwords-title = New passwords: { $group }
groups-passwords-text = These passwords are shown only this once: print this page now and give each person their line. The old passwords no longer work, and everyone on the list has been signed out.
groups-col-password = New password
groups-back = Back to { $group }
groups-created = The group was created. Add its members below.
groups-added = Added.
groups-removed = Removed.
groups-bulk-disabled = { $count ->
    [one] { $n } account disabled.
   *[other] { $n } accounts disabled.
}
groups-bulk-enabled = { $count ->
    [one] { $n } account enabled.
   *[other] { $n } accounts enabled.
}
groups-bulk-removed = { $count ->
    [one] { $n } person removed from the group.
   *[other] { $n } people removed from the group.
}
groups-bulk-none = Choose at least one member (or “All”).
groups-bulk-no-action = Choose what to do with the chosen members.
