# Cadre des pages, connexion, erreurs et salle d'attente.
language-name = Français
skip-to-content = Aller au contenu
nav-main = Menu principal
nav-account = Compte
nav-start = Accueil
nav-profile = Profil
nav-admin = Administration
sign-out = Se déconnecter
footer-version = Schola { $version }
back-to-start = Retour à l'accueil

login-title = Connexion
login-field = Identifiant
password-field = Mot de passe
login-submit = Se connecter
login-expired = Le formulaire de connexion avait expiré. Saisis à nouveau ton mot de passe.
login-wrong = L'identifiant ou le mot de passe est incorrect.
login-wait = Trop de mots de passe erronés. Attends { $secs } secondes, puis réessaie.
signout-expired = Le formulaire de déconnexion avait expiré ; recharge la page.

busy-title = Un instant, s'il te plaît
busy-text = Beaucoup de personnes se connectent en ce moment. Cette page réessaie d'elle-même dans { $secs } secondes ; inutile de la recharger.

error-title = Un problème est survenu
error-text = Le serveur n'a pas pu traiter cette demande. Les détails se trouvent dans le journal du serveur.
not-found-title = Page introuvable
not-found-text = Il n'y a pas de page à cette adresse.
forbidden-title = Accès refusé
forbidden-text = Cette page est réservée aux administrateurs de l'école.
form-expired = Le formulaire avait expiré. Remplis-le à nouveau.

role-student = Élève
role-teacher = Enseignant·e
role-staff = Personnel
role-admin = Administrateur·rice
status-active = actif
status-disabled = bloqué
kind-class = classe
kind-course = cours
kind-staff = personnel
kind-custom = groupe
role-student-count = { $count ->
    [one] { $n } élève
   *[other] { $n } élèves
}
role-teacher-count = { $count ->
    [one] { $n } enseignant·e
   *[other] { $n } enseignant·es
}
role-staff-count = { $count ->
    [one] { $n } membre du personnel
   *[other] { $n } membres du personnel
}
role-admin-count = { $count ->
    [one] { $n } administrateur·rice
   *[other] { $n } administrateur·rices
}
