# Administration : vue d'ensemble.
admin-title = Administration
admin-nav = Administration
admin-nav-people = Personnes
admin-nav-backup = Sauvegarde
admin-nav-updates = Mises à jour
admin-nav-groups = Groupes
admin-nav-notices = Annonces
admin-nav-audit = Journal d'audit
admin-nav-services = Services
admin-nav-settings = Paramètres
admin-nav-capacity = Capacité
active-accounts = Comptes actifs
people-title = Personnes
search-field = Recherche
role-field = Rôle
role-all = tous
filter-submit = Filtrer
col-login = Identifiant
col-name = Nom
col-role = Rôle
col-status = Statut
col-mail = Courriel
people-match = { $count ->
    [one] { $n } personne trouvée
   *[other] { $n } personnes trouvées
}
page-of = Page { $page } sur { $pages }
page-prev = Précédente
page-next = Suivante
pages-nav = Pages
groups-admin-title = Groupes
col-kind = Type
col-members = Membres
col-owners = Responsables
