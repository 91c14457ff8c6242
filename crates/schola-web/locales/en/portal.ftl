# The start page and the profile of students, teachers and staff.
home-title = Start
home-welcome = Welcome, { $name }
notices-title = Notices
owned-title = Classes and groups you teach
members-count = { $count ->
    [one] { $n } member
   *[other] { $n } members
}
class-and-groups-title = Your class and groups
groups-title = Your groups
services-title = Services
tile-mail = Mail
tile-mail-text = Your school mail: read, write, reply.
tile-files = Files
tile-off = Not switched on yet.
tile-profile = Your account
tile-profile-text = Password, language and your details.

profile-title = Your account
profile-facts = Your details
fact-login = Login
fact-role = Role
fact-mail = Mail address
fact-name = Name
language-title = Language
language-field = Language of the pages
language-browser = As my browser asks
language-save = Save the language
language-saved = The language was saved.
password-title = Change your password
password-current = Current password
password-new = New password
password-new-hint = At least { $min } characters.
password-confirm = New password again
password-save = Change the password
password-changed = Your password was changed. You were signed out everywhere else.
password-wrong-current = The current password is wrong.
passwords-differ = The two new passwords differ.
password-too-short = The password must have at least { $min } characters (it has { $has }).
password-too-long = The password must have at most { $max } characters.
password-control = The password contains a control character.
password-contains-login = The password must not contain the login name.
password-too-easy = This password is too easy to guess.
