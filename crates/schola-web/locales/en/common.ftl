# The page frame, sign-in, errors and the waiting room.
language-name = English
skip-to-content = Skip to the content
nav-main = Main
nav-account = Account
nav-start = Start
nav-profile = Profile
nav-admin = Administration
sign-out = Sign out
footer-version = Schola { $version }
back-to-start = Back to the start page

login-title = Sign in
login-field = Login
password-field = Password
login-submit = Sign in
login-expired = The sign-in form had expired. Please enter your password again.
login-wrong = The login or the password is wrong.
login-wait = Too many wrong passwords. Please wait { $secs } seconds, then try again.
signout-expired = The sign-out form had expired; reload the page.

busy-title = Just a moment
busy-text = Many people are signing in right now. This page tries again by itself in { $secs } seconds; there is no need to reload it.

error-title = Something went wrong
error-text = The server could not complete this request. The details are in the server's log.
not-found-title = Not found
not-found-text = There is no page at this address.
forbidden-title = Not allowed
forbidden-text = This page is for the school's administrators.
form-expired = The form had expired. Please fill it in again.

role-student = Student
role-teacher = Teacher
role-staff = Staff
role-admin = Administrator
status-active = active
status-disabled = disabled
kind-class = class
kind-course = course
kind-staff = staff
kind-custom = group
role-student-count = { $count ->
    [one] { $n } student
   *[other] { $n } students
}
role-teacher-count = { $count ->
    [one] { $n } teacher
   *[other] { $n } teachers
}
role-staff-count = { $count ->
    [one] { $n } staff member
   *[other] { $n } staff members
}
role-admin-count = { $count ->
    [one] { $n } administrator
   *[other] { $n } administrators
}
