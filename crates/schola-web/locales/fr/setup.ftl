# Première installation.
setup-page-title = Première installation
setup-title = Configurer ton serveur scolaire
setup-intro = Ce serveur n'a pas encore d'administrateur. Saisis le code d'installation affiché sur la console du serveur (ou dans { $path }), le nom et le domaine de messagerie de ton école, et un mot de passe pour le compte d'administration.
setup-code = Code d'installation
setup-school-name = Nom de l'école
setup-mail-domain = Domaine de messagerie
setup-admin-login = Identifiant de l'administrateur
setup-admin-password = Mot de passe de l'administrateur
setup-password-again = Mot de passe, encore une fois
setup-submit = Configurer
setup-wrong-code = Le code d'installation est incorrect. Il est affiché sur la console du serveur.
setup-default-language = Langue par défaut
setup-default-language-hint = Pour les personnes dont le navigateur ne demande aucune des langues de Schola.
