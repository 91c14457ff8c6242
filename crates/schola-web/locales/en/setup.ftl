# First-run setup.
setup-page-title = First-run setup
setup-title = Set up your school server
setup-intro = This server has no administrator yet. Enter the setup code shown on the server's console (or in { $path }), your school's name and mail domain, and a password for the administrator account.
setup-code = Setup code
setup-school-name = School name
setup-mail-domain = Mail domain
setup-admin-login = Administrator login
setup-admin-password = Administrator password
setup-password-again = Password again
setup-submit = Set up
setup-wrong-code = The setup code is wrong. It is shown on the server's console.
setup-default-language = Default language
setup-default-language-hint = For people whose browser asks for none of Schola's languages.
