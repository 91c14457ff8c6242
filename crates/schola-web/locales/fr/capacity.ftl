# La page de capacité (administration) : cette machine tient-elle la matinée de 8 h de
# l'école, le rapport de préparation, et le bandeau sur chaque page d'administration.
capacity-title = Capacité
capacity-banner-text = Contrôle de capacité : { $problems }
capacity-banner-link = voir Capacité
capacity-warnings = { $count ->
    [one] { $n } avertissement
   *[other] { $n } avertissements
}
capacity-failures = { $count ->
    [one] { $n } échec
   *[other] { $n } échecs
}
capacity-level-ok = OK
capacity-level-warn = Avertissement
capacity-level-fail = Échec
capacity-trigger-cli = sur la console
capacity-trigger-timer = contrôle quotidien
capacity-trigger-upgrade = après une mise à jour
capacity-trigger-web = depuis cette page
capacity-trigger-storm = afflux mesuré

# le dernier contrôle
capacity-none-title = Pas encore de contrôle de capacité
capacity-none-text = Schola n'a pas encore contrôlé cette machine. Il y a trois façons d'obtenir un contrôle : lancer { $command } en root sur la console du serveur, appuyer sur « Contrôler maintenant » ci-dessous (sur une appliance), ou attendre le contrôle quotidien, qui a lieu chaque nuit.
capacity-report-none = Il n'y a pas encore de contrôle pour un rapport. La page de capacité explique comment en lancer un.
capacity-unreadable = Le dernier contrôle (du { $when }) n'a pas pu être lu : { $error }. Lancez un nouveau contrôle.
capacity-summary-title = Résultat du dernier contrôle
capacity-overall = Ensemble : { $level }
capacity-ran = Contrôlé le { $when } UTC ({ $trigger }), par Schola { $version }.
capacity-largest = La plus grande école que cette machine tient à 8 h : { $largest } personnes (cette école : { $this }).
capacity-largest-measured = Ce nombre provient d'un afflux de connexions mesuré.
capacity-bars-title = Besoin et capacité par ressource
capacity-bar-needed = nécessaire
capacity-bar-have = disponible
capacity-verdicts-title = Verdict par ressource
capacity-col-resource = Ressource
capacity-col-level = Résultat
capacity-col-numbers = Chiffres
capacity-col-action = Que faire
capacity-numbers = nécessaire { $needed }, disponible { $have }, marge { $headroom } %
capacity-numbers-no-need = nécessaire { $needed }, disponible { $have }
capacity-measured = mesuré par un afflux de connexions
capacity-modelled = d'après le modèle
capacity-no-action = rien à faire
capacity-fix-button = Appliquer : régler { $setting } = { $value }
capacity-fix-console = Pour l'appliquer, lancez { $command } en root sur le serveur.
capacity-check-now = Contrôler maintenant
capacity-check-console = Pour un contrôle maintenant, lancez { $command } en root sur le serveur.
capacity-check-waiting = Un contrôle est demandé et a lieu dans la minute. Rechargez ensuite cette page pour voir son résultat.
capacity-fix-waiting = Une modification attend d'être appliquée.
capacity-check-requested = Le contrôle est demandé. Il a lieu dans la minute ; rechargez ensuite cette page pour voir son résultat.
capacity-fix-requested = La modification { $setting } = { $value } est demandée. L'assistant l'applique et redémarre le serveur web dans la minute ; les personnes connectées le restent. Le prochain contrôle montre la nouvelle valeur.
capacity-fix-forged = Le dernier contrôle ne propose pas cette modification. Rechargez la page et utilisez le bouton qui s'y trouve.
capacity-not-managed = Ce serveur n'est pas une appliance installée : la page ne peut lancer ni contrôle ni modification. Lancez plutôt { $command } en root sur le serveur.
capacity-request-failed = La demande n'a pas pu être déposée pour l'assistant : { $error }

# ressources
capacity-resource-signin-cpu = Processeur pour les connexions
capacity-resource-request-cpu = Processeur pour les pages
capacity-resource-memory = Mémoire vive (RAM)
capacity-resource-connections = Connexions simultanées
capacity-resource-open-files = Fichiers ouverts
capacity-resource-disk-space = Espace disque
capacity-resource-disk-write = Écritures sur le disque
capacity-resource-uplink = Accès internet
capacity-resource-network = Réseau local

# actions, une par sorte
capacity-action-set-config = Régler { $setting } = { $value }.
capacity-action-add-memory = Ajouter { $amount } de mémoire vive.
capacity-action-add-cores = Il faut une machine de { $cores } cœurs de cette vitesse.
capacity-action-add-disk-full = Le disque est plein dans { $days } jours : ajouter { $amount }.
capacity-action-add-disk = Ajouter { $amount } d'espace disque.
capacity-action-faster-disk = Mettre les données sur un SSD : ce disque n'écrit pas assez vite.
capacity-action-enter-uplink = Saisissez ci-dessous le débit internet de l'école ; il ne peut pas être mesuré hors ligne.
capacity-action-faster-uplink = Il faut un accès internet d'au moins { $bandwidth }.
capacity-action-faster-network = Il faut un lien réseau d'au moins { $bandwidth }.
capacity-action-raise-open-files = Porter LimitNOFILE de { $service } à { $value }.
capacity-action-investigate = À examiner : { $what }

# comment nous y arrivons
capacity-figures-title = D'où viennent ces chiffres
capacity-figures-intro = Chaque besoin est calculé à partir de la taille de l'école, du profil d'enseignement à distance et de ce qui a été mesuré sur cette machine. La formule nomme ses entrées ; leurs valeurs et leur origine figurent dessous.
capacity-col-input = Entrée
capacity-col-value = Valeur
capacity-col-source = Origine
capacity-source-directory = annuaire
capacity-source-profile = profil
capacity-source-probe = mesuré
capacity-source-config = configuration
capacity-source-constant = constante
capacity-source-storm = afflux mesuré
capacity-source-model = calculé plus haut

# grandeurs
capacity-figure-people = Personnes
capacity-figure-active-people = Personnes en ligne au pic
capacity-figure-signin-rate = Connexions par seconde à 8 h
capacity-figure-cpu-scale = Facteur de coût CPU par rapport à la machine de référence
capacity-figure-signin-cpu = Processeur pour l'afflux de connexions
capacity-figure-request-rate = Pages demandées par seconde
capacity-figure-request-cpu = Processeur pour les pages
capacity-figure-connections = Connexions simultanées
capacity-figure-open-files = Fichiers ouverts
capacity-figure-memory = Mémoire vive
capacity-figure-disk-growth-per-day = Croissance des données par jour d'école
capacity-figure-disk-space-year = Espace disque par année scolaire
capacity-figure-disk-write-rate = Débit d'écriture disque à l'heure de pointe
capacity-figure-commit-rate = Commits de base de données par seconde
capacity-figure-uplink = Débit internet
capacity-figure-network = Débit du réseau local

# entrées
capacity-input-people = personnes
capacity-input-students = élèves
capacity-input-teachers = enseignants
capacity-input-staff = personnel
capacity-input-admins = administrateurs
capacity-input-active-people = personnes en ligne
capacity-input-signin-rate = connexions par seconde
capacity-input-cores = cœurs
capacity-input-verifies-per-sec = vérifications argon2id par seconde
capacity-input-memory-kib = mémoire argon2id en Kio
capacity-input-iterations = passes argon2id
capacity-input-calibration-verify-ms = temps CPU d'une vérification argon2id sur la machine de référence
capacity-input-calibration-argon2-work = travail argon2id par vérification sur la machine de référence
capacity-input-cpu-scale = facteur de coût CPU
capacity-input-signin-overhead-ms = temps CPU par connexion hors argon2id
capacity-input-request-rate = requêtes par seconde
capacity-input-request-cpu-ms = temps CPU par requête
capacity-input-connections = connexions simultanées
capacity-input-open-files-headroom = autres fichiers ouverts du serveur web
capacity-input-os-baseline = mémoire du système et des autres services
capacity-input-web-baseline = mémoire de base du serveur web
capacity-input-hash-threads = threads de hachage des mots de passe
capacity-input-argon2-memory = mémoire par vérification argon2id
capacity-input-workers = processus du serveur web
capacity-input-per-worker = mémoire par processus
capacity-input-per-connection = mémoire par connexion TCP
capacity-input-per-session = mémoire par session
capacity-input-per-drive = mémoire par lecteur réseau
capacity-input-mail-connections-per-person = connexions de messagerie par personne
capacity-input-per-mail-connection = mémoire par connexion de messagerie
capacity-input-disk-growth-per-day = croissance des données par jour
capacity-input-busiest-hour-share = part des envois du jour à l'heure de pointe
capacity-input-commits-per-signin = commits de base de données par connexion
capacity-input-session-touches-per-minute = mises à jour de session par personne et par minute

# contrôles de santé
capacity-health-title = Contrôles de santé
capacity-col-check = Contrôle
capacity-col-detail = Constat
capacity-health-disk-free = Espace disque libre
capacity-health-memory = Mémoire utilisée
capacity-health-swap = Mémoire d'échange utilisée
capacity-health-oom-kills = Processus arrêtés faute de mémoire
capacity-health-mail-queue = File d'attente des courriels
capacity-health-certificate = Certificat
capacity-health-services = Services Schola
capacity-health-limits-hit = Limites atteintes
capacity-health-backup = Sauvegarde

# images et historique
capacity-disk-title = Prévision de l'espace disque
capacity-disk-used = occupé
capacity-disk-forecast = prévision
capacity-disk-capacity = taille du disque
capacity-disk-full-on = plein le { $date }
capacity-disk-none = Les contrôles n'ont pas encore mesuré de disque de données.
capacity-peaks-title = Pic du matin par jour
capacity-peaks-signins = connexions dans la minute la plus chargée
capacity-peaks-p99 = 1 % des réponses les plus lentes (ms)
capacity-peaks-waiting = envoyés en salle d'attente
capacity-peaks-none = Aucune charge n'est encore enregistrée ; le serveur web l'enregistre chaque minute.
capacity-history-title = Contrôles précédents
capacity-col-when = Quand
capacity-col-trigger = Lancé
capacity-col-largest = Plus grande école

# le profil
capacity-profile-title = Profil d'enseignement à distance
capacity-profile-intro = Comment l'école utilise Schola lors de sa matinée la plus chargée. Les valeurs par défaut décrivent l'enseignement à distance, le cas le plus lourd : tous les élèves à la maison, chaque cours sur le serveur de l'école. Un champ vide prend sa valeur par défaut.
capacity-profile-save = Enregistrer le profil
capacity-profile-saved = Le profil est enregistré. Le prochain contrôle l'utilise.
capacity-profile-default = Par défaut : { $default }.
capacity-profile-range = Permis : de { $min } à { $max }.
capacity-profile-out-of-range = { $field } : { $value } est hors limites. Permis : de { $min } à { $max }. Rien n'a été enregistré.
capacity-profile-not-a-number = { $field } : « { $value } » n'est pas un nombre. Rien n'a été enregistré.
capacity-profile-not-entered = non saisi
capacity-field-students-online = Élèves en ligne au pic
capacity-field-students-online-hint = Part des élèves qui utilisent Schola lors de la matinée la plus chargée.
capacity-field-staff-online = Enseignants et personnel en ligne au pic
capacity-field-staff-online-hint = Part des enseignants et du personnel qui utilisent Schola lors de la matinée la plus chargée.
capacity-field-storm-share = Personnes qui se connectent pendant l'afflux
capacity-field-storm-share-hint = Part de tous qui se connectent dans la fenêtre de l'afflux (vers 8 h).
capacity-field-storm-window-secs = Fenêtre de l'afflux
capacity-field-storm-window-secs-hint = La durée sur laquelle ces connexions se répartissent, p. ex. 600 s de 7 h 55 à 8 h 05.
capacity-field-requests-per-minute = Requêtes par minute et par personne
capacity-field-requests-per-minute-hint = Pages et fichiers que chaque personne en ligne demande par minute après s'être connectée.
capacity-field-connections-per-browser = Connexions par navigateur
capacity-field-connections-per-browser-hint = Connexions qu'un navigateur garde ouvertes vers le serveur.
capacity-field-upload-per-teacher = Envoi par enseignant et par jour
capacity-field-upload-per-teacher-hint = Fiches, corrections et enregistrements qu'un enseignant stocke un jour d'école.
capacity-field-upload-per-student = Envoi par élève et par jour
capacity-field-upload-per-student-hint = Devoirs, photos et vidéos de téléphone qu'un élève stocke un jour d'école.
capacity-field-mails-per-person = Courriels par personne et par jour
capacity-field-mails-per-person-hint = Courriels que chaque personne reçoit un jour d'école.
capacity-field-mail-size = Taille moyenne d'un courriel
capacity-field-mail-size-hint = La taille moyenne d'un courriel avec ses pièces jointes.
capacity-field-drives-per-person = Lecteurs réseau par personne
capacity-field-drives-per-person-hint = Lecteurs que chaque personne a montés au pic (le dossier personnel en est un).
capacity-field-bandwidth-per-person = Débit par personne en ligne
capacity-field-bandwidth-per-person-hint = Débit descendant moyen d'une personne en ligne : pages, fiches et fichiers, pas la visioconférence.
capacity-field-school-days = Jours d'école par an
capacity-field-school-days-hint = Le nombre de jours par an où les données croissent.
capacity-field-uplink-bits = Accès internet de l'école
capacity-field-uplink-bits-hint = Débit montant de la connexion internet de l'école, selon le contrat ou le routeur. Il ne peut pas être mesuré hors ligne ; vide veut dire non saisi, et le contrôle le signale alors.

# unités
capacity-unit-percent = { $n } %
capacity-unit-cores = { $count ->
    [one] { $n } cœur
   *[other] { $n } cœurs
}
capacity-unit-days = { $count ->
    [one] { $n } jour
   *[other] { $n } jours
}
capacity-unit-per-second = { $n }/s
capacity-unit-per-minute = { $n }/min
capacity-unit-per-day = { $n }/jour
capacity-unit-seconds = { $n } s
capacity-unit-ms = { $n } ms
capacity-unit-byte-prefixes = o Kio Mio Gio Tio Pio
capacity-unit-bit-prefixes = bit/s kbit/s Mbit/s Gbit/s Tbit/s
capacity-unit-mb = Mo
capacity-unit-kb = ko
capacity-unit-mbit = Mbit/s
capacity-unit-kbit = kbit/s
capacity-unit-s = s
capacity-unit-per-minute-short = /min

# le rapport de préparation
capacity-report-html = Version imprimable
capacity-report-pdf = Télécharger le PDF
capacity-report-title = Rapport de préparation : { $school }
capacity-report-subtitle = Ce serveur scolaire tient-il la matinée d'enseignement à distance de l'école ? Contrôlé le { $date }.
capacity-report-footer = Schola { $version } · { $school } · { $date }
capacity-report-back = Retour à la page de capacité
capacity-report-summary = Résumé
capacity-report-school = Taille de l'école
capacity-report-people-total = Tout le monde
capacity-report-hardware = Matériel
capacity-report-host = Nom du serveur
capacity-report-cpu = Processeur
capacity-report-cores = Cœurs
capacity-report-ram = Mémoire vive
capacity-report-ram-cgroup = { $amount } (limitée pour Schola)
capacity-report-swap = Mémoire d'échange
capacity-report-disks = Disques
capacity-report-disk-role-database = base de données
capacity-report-disk-role-files = fichiers
capacity-report-col-disk = Disque
capacity-report-col-type = Type
capacity-report-col-size = Taille
capacity-report-col-free = Libre
capacity-report-col-seq-write = Écriture
capacity-report-col-fsyncs = Validations
capacity-report-col-iops = Lecture/écriture aléatoire
capacity-report-not-measured = non mesuré
capacity-report-nics = Réseau
capacity-report-nic-speed-unknown = vitesse inconnue
capacity-report-nic-down = déconnecté
capacity-report-measured = Capacité mesurée
capacity-report-argon2 = Vérifications de connexion par seconde (tous les cœurs)
capacity-report-argon2-params = Hachage des mots de passe (argon2id)
capacity-report-argon2-params-value = { $memory } de mémoire, { $iterations } passes
capacity-report-storm = Afflux de connexions mesuré
capacity-report-storm-people = Personnes connectées
capacity-report-storm-window = En
capacity-report-storm-rate = Connexions par seconde
capacity-report-storm-predicted = Prévu par le modèle
capacity-report-storm-p99-signin = 1 % des connexions les plus lentes
capacity-report-storm-p99-start = 1 % des pages d'accueil les plus lentes
capacity-report-storm-errors = Erreurs
capacity-report-storm-waiting = Envoyés en salle d'attente
capacity-report-no-storm = Aucun afflux de connexions n'a été mesuré ; les verdicts viennent du modèle et de la machine mesurée.
capacity-report-verdicts = Verdict par ressource
capacity-report-col-needed = Nécessaire
capacity-report-col-have = Disponible
capacity-report-col-headroom = Marge
capacity-report-upgrade = Mise à niveau recommandée
capacity-report-upgrade-none = Aucune : cette machine tient la matinée de l'école avec le profil ci-dessous.
capacity-report-profile = Profil d'enseignement à distance utilisé
capacity-report-date = Date
capacity-report-version = Version de Schola

# what the machine has, when it could not be measured (uplink not entered, link speed not reported)
capacity-unknown = inconnu
