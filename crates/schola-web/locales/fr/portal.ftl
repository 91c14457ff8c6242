# Accueil et profil des élèves, enseignants et membres du personnel.
home-title = Accueil
home-welcome = Bienvenue, { $name }
notices-title = Annonces
owned-title = Tes classes et groupes en tant qu'enseignant·e
members-count = { $count ->
    [one] { $n } membre
   *[other] { $n } membres
}
class-and-groups-title = Ta classe et tes groupes
groups-title = Tes groupes
services-title = Services
tile-mail = Courriel
tile-mail-text = Ton courriel de l'école : lire, écrire, répondre.
tile-files = Fichiers
tile-off = Pas encore activé.
tile-profile = Ton compte
tile-profile-text = Mot de passe, langue et tes informations.

profile-title = Ton compte
profile-facts = Tes informations
fact-login = Identifiant
fact-role = Rôle
fact-mail = Adresse électronique
fact-name = Nom
language-title = Langue
language-field = Langue des pages
language-browser = Celle que demande mon navigateur
language-save = Enregistrer la langue
language-saved = La langue a été enregistrée.
password-title = Changer ton mot de passe
password-current = Mot de passe actuel
password-new = Nouveau mot de passe
password-new-hint = Au moins { $min } caractères.
password-confirm = Nouveau mot de passe, encore une fois
password-save = Changer le mot de passe
password-changed = Ton mot de passe a été changé. Tu as été déconnecté·e partout ailleurs.
password-wrong-current = Le mot de passe actuel est incorrect.
passwords-differ = Les deux nouveaux mots de passe sont différents.
password-too-short = Le mot de passe doit compter au moins { $min } caractères (il en a { $has }).
password-too-long = Le mot de passe doit compter au plus { $max } caractères.
password-control = Le mot de passe contient un caractère de contrôle.
password-contains-login = Le mot de passe ne doit pas contenir l'identifiant.
password-too-easy = Ce mot de passe est trop facile à deviner.
