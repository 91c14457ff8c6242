# La page Services (administration) : services, limites et charge.
services-page-title = Services
services-list-title = Les services et leur état
services-no-systemd = systemd ne tourne pas sur cette machine (un serveur de développement ou de démonstration) : l'état des services ne peut pas être demandé ; la ligne de schola-web vient de ce processus.
services-no-dpkg = dpkg n'est pas disponible sur cette machine : les versions installées sont inconnues.
services-col-service = Service
services-col-health = État
services-col-version = Version
services-col-uptime = Temps de fonctionnement
services-col-turn-on = Pour l'activer
services-kind-schola = service Schola
services-kind-system = service système
services-health-running = en marche
services-health-starting = démarre
services-health-stopping = s'arrête
services-health-stopped = arrêté
services-health-failed = en échec
services-health-off = désactivé (non installé)
services-health-unknown = inconnu
services-uptime-days = { $d } j { $h } h
services-uptime-hours = { $h } h { $m } min
services-uptime-minutes = { $m } min
services-uptime-since = { $uptime }, depuis le { $since }
services-from-process = d'après ce processus
services-failed-log = Pourquoi : journalctl -u { $unit }
services-comes-with = fourni avec { $package }
services-not-available = Ce paquet n'est pas encore disponible.
services-commands-as-root = Exécute ces commandes en tant que root sur le serveur.
services-limits-title = Limites en vigueur
services-col-limit = Limite
services-col-value = Valeur
services-col-source = Origine
services-limit-workers = Fils de travail
services-limit-connections = Connexions ouvertes (tous les fils)
services-limit-connections-per-worker = Connexions ouvertes par fil
services-limit-handshakes = Négociations TLS simultanées par fil
services-limit-in-flight = Requêtes traitées en même temps
services-limit-hash-threads = Fils de vérification des mots de passe
services-limit-signins-waiting = Connexions en attente de la vérification du mot de passe
services-limit-request-timeout = Délai pour envoyer les en-têtes de la requête
services-limit-handshake-timeout = Délai pour terminer la négociation TLS
services-limit-keep-alive = Une connexion inactive reste ouverte pendant
services-seconds = { $n } s
services-source-config = défini dans la configuration : { $key }
services-source-built-in = intégré
services-source-cores = { $count ->
    [one] un par cœur ({ $n } cœur)
   *[other] un par cœur ({ $n } cœurs)
}
services-source-per-worker = les connexions ouvertes réparties entre les fils
services-source-in-flight = { $count ->
    [one] déduit : 256 par cœur ({ $n } cœur), entre 256 et 4 096
   *[other] déduit : 256 par cœur ({ $n } cœurs), entre 256 et 4 096
}
services-source-signins = déduit : 200 par fil de vérification, au moins 64
services-load-title = Charge en ce moment
services-col-measure = Quoi
services-col-now = Maintenant
services-col-meaning = Signification
services-load-sessions = Sessions
services-load-sessions-note = Connexions pas encore terminées ni expirées, sur tous les appareils
services-load-signins = Connexions à la vérification du mot de passe
services-load-signins-note = En attente ou en cours de vérification ; au-delà de la limite, les nouvelles connexions sont invitées à réessayer dans un instant
services-load-in-flight = Requêtes en cours
services-load-in-flight-note = La requête de cette page comprise ; au-delà de la limite, les visiteurs voient la salle d'attente
services-load-of = { $n } sur { $limit }
services-limit-connections-per-client = Connexions ouvertes par adresse de client
services-limit-handshakes-per-client = Négociations TLS simultanées par adresse de client
services-limit-body-timeout = Plus longue pause dans le corps d'une requête
services-limit-body-rate = Corps de requête le plus lent accepté
services-bytes-per-second = { $n } octets/s
services-source-school = la taille de l'école (6 par personne, plus 1 024, au moins 4 096), au plus ce que { $gib } Gio de mémoire contiennent
services-source-per-client = un quart des connexions ouvertes, au moins 256
services-source-handshakes-per-client = un quart des places de négociation, au moins 16
services-limit-metrics = Métriques Prometheus
services-metrics-off = désactivées
services-source-metrics = sur le serveur en local (localhost), désactivées en développement
services-limit-blocking-threads = Fils de base de données par worker
