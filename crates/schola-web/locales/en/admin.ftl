# The administration overview.
admin-title = Administration
admin-nav = Administration
admin-nav-people = People
admin-nav-backup = Backup
admin-nav-updates = Updates
admin-nav-groups = Groups
admin-nav-notices = Notices
admin-nav-audit = Audit log
admin-nav-services = Services
admin-nav-settings = Settings
admin-nav-capacity = Capacity
active-accounts = Active accounts
people-title = People
search-field = Search
role-field = Role
role-all = all
filter-submit = Filter
col-login = Login
col-name = Name
col-role = Role
col-status = Status
col-mail = Mail
people-match = { $count ->
    [one] { $n } person matches
   *[other] { $n } people match
}
page-of = Page { $page } of { $pages }
page-prev = Previous
page-next = Next
pages-nav = Pages
groups-admin-title = Groups
col-kind = Kind
col-members = Members
col-owners = Owners
