# Administration : groupes et classes (liste, page d’un groupe, actions groupées).
groups-page-title = Groupes et classes
groups-list-title = Tous les groupes et classes
groups-none = Il n’y a encore aucun groupe ni aucune classe.
groups-new-title = Nouveau groupe ou nouvelle classe
groups-name-field = Nom court
groups-name-hint = 1 à 32 caractères a–z, 0–9, « . », « - » ou « _ », commençant par une lettre ou un chiffre, p. ex. 5a. Les partages et listes de diffusion l’utilisent.
groups-display-field = Nom affiché (facultatif)
groups-display-hint = Par exemple « Classe 5a ». Laissé vide, le nom court est affiché.
groups-kind-field = Type
groups-create-submit = Créer
groups-about = Nom court { $name } · { $kind }
groups-members-title = Membres
groups-new-person = Nouvelle personne dans ce groupe
groups-no-members = Pas encore de membres.
groups-all = Tous
groups-action-field = Pour les membres choisis
groups-action-choose = choisir…
groups-action-reset = réinitialiser les mots de passe (liste à imprimer)
groups-action-disable = désactiver les comptes
groups-action-enable = réactiver les comptes
groups-action-remove = retirer de ce groupe
groups-apply = Appliquer
groups-owners-title = Responsables
groups-no-owners = Ce groupe n’a pas encore de responsable.
groups-remove-owner = Retirer { $name }
groups-add-title = Ajouter une personne
groups-add-submit = Ajouter
groups-passwords-title = Nouveaux mots de passe : { $group }
groups-passwords-text = Ces mots de passe ne sont affichés qu’une seule fois : imprimez cette page maintenant et remettez à chacun sa ligne. Les anciens mots de passe ne fonctionnent plus et toutes les personnes de la liste ont été déconnectées.
groups-col-password = Nouveau mot de passe
groups-back = Retour à { $group }
groups-created = Le groupe est créé. Ajoutez ses membres ci-dessous.
groups-added = Ajouté.
groups-removed = Retiré.
groups-bulk-disabled = { $count ->
    [one] { $n } compte désactivé.
   *[other] { $n } comptes désactivés.
}
groups-bulk-enabled = { $count ->
    [one] { $n } compte réactivé.
   *[other] { $n } comptes réactivés.
}
groups-bulk-removed = { $count ->
    [one] { $n } personne retirée du groupe.
   *[other] { $n } personnes retirées du groupe.
}
groups-bulk-none = Choisissez au moins un membre (ou « Tous »).
groups-bulk-no-action = Choisissez ce qu’il faut faire des membres choisis.
