# De capaciteitspagina (beheer): houdt deze machine de schoolochtend om 8:00, het
# gereedheidsrapport, en de melding op elke beheerpagina.
capacity-title = Capaciteit
capacity-banner-text = Capaciteitscontrole: { $problems }
capacity-banner-link = zie Capaciteit
capacity-warnings = { $count ->
    [one] { $n } waarschuwing
   *[other] { $n } waarschuwingen
}
capacity-failures = { $count ->
    [one] { $n } fout
   *[other] { $n } fouten
}
capacity-level-ok = OK
capacity-level-warn = Waarschuwing
capacity-level-fail = Fout
capacity-trigger-cli = op de console
capacity-trigger-timer = dagelijkse controle
capacity-trigger-upgrade = na een update
capacity-trigger-web = vanaf deze pagina
capacity-trigger-storm = gemeten aanmeldpiek

# de laatste controle
capacity-none-title = Nog geen capaciteitscontrole
capacity-none-text = Schola heeft deze machine nog niet gecontroleerd. Er zijn drie manieren om een controle te krijgen: voer { $command } uit als root op de console van de server, druk hieronder op "Nu controleren" (op een appliance), of wacht op de dagelijkse controle, die elke nacht draait.
capacity-report-none = Er is nog geen controle om over te rapporteren. De capaciteitspagina zegt hoe u er een start.
capacity-unreadable = De laatste controle (van { $when }) kon niet worden gelezen: { $error }. Start een nieuwe controle.
capacity-summary-title = Uitkomst van de laatste controle
capacity-overall = Totaal: { $level }
capacity-ran = Gecontroleerd op { $when } UTC ({ $trigger }), door Schola { $version }.
capacity-largest = De grootste school die deze machine om 8:00 aankan: { $largest } personen (deze school: { $this }).
capacity-largest-measured = Dit getal komt uit een gemeten aanmeldpiek.
capacity-bars-title = Behoefte en capaciteit per middel
capacity-bar-needed = nodig
capacity-bar-have = beschikbaar
capacity-verdicts-title = Oordeel per middel
capacity-col-resource = Middel
capacity-col-level = Uitkomst
capacity-col-numbers = Getallen
capacity-col-action = Wat te doen
capacity-numbers = nodig { $needed }, beschikbaar { $have }, marge { $headroom } %
capacity-numbers-no-need = nodig { $needed }, beschikbaar { $have }
capacity-measured = gemeten met een aanmeldpiek
capacity-modelled = volgens het model
capacity-no-action = niets te doen
capacity-fix-button = Toepassen: { $setting } = { $value } instellen
capacity-fix-console = Voer om dit toe te passen { $command } uit als root op de server.
capacity-check-now = Nu controleren
capacity-check-console = Voer voor een controle nu { $command } uit als root op de server.
capacity-check-waiting = Er is een controle aangevraagd; die draait binnen een minuut. Laad deze pagina daarna opnieuw om de uitkomst te zien.
capacity-fix-waiting = Er wacht een wijziging om te worden toegepast.
capacity-check-requested = De controle is aangevraagd. Die draait binnen een minuut; laad deze pagina daarna opnieuw om de uitkomst te zien.
capacity-fix-requested = De wijziging { $setting } = { $value } is aangevraagd. De helper past die toe en herstart de webserver binnen een minuut; aangemelde personen blijven aangemeld. De volgende controle toont de nieuwe waarde.
capacity-fix-forged = Deze wijziging stelt de laatste controle niet voor. Laad de pagina opnieuw en gebruik de knop die daar staat.
capacity-not-managed = Deze server is geen geïnstalleerde appliance, dus de pagina kan geen controle of wijziging starten. Voer in plaats daarvan { $command } uit als root op de server.
capacity-request-failed = Het verzoek kon niet voor de helper worden achtergelaten: { $error }

# middelen
capacity-resource-signin-cpu = Processor voor aanmeldingen
capacity-resource-request-cpu = Processor voor paginaverzoeken
capacity-resource-memory = Werkgeheugen (RAM)
capacity-resource-connections = Gelijktijdige verbindingen
capacity-resource-open-files = Open bestanden
capacity-resource-disk-space = Schijfruimte
capacity-resource-disk-write = Schrijfsnelheid van de schijf
capacity-resource-uplink = Internetverbinding
capacity-resource-network = Lokaal netwerk

# acties, één per soort
capacity-action-set-config = Stel { $setting } = { $value } in.
capacity-action-add-memory = Voeg { $amount } werkgeheugen toe.
capacity-action-add-cores = Er is een machine met { $cores } kernen van deze snelheid nodig.
capacity-action-add-disk-full = De schijf is over { $days } dagen vol: voeg { $amount } toe.
capacity-action-add-disk = Voeg { $amount } schijfruimte toe.
capacity-action-faster-disk = Zet de gegevens op een SSD: deze schijf schrijft niet snel genoeg.
capacity-action-enter-uplink = Vul hieronder de internetverbinding van de school in; die is offline niet te meten.
capacity-action-faster-uplink = Er is een internetverbinding van minstens { $bandwidth } nodig.
capacity-action-faster-network = Er is een netwerkverbinding van minstens { $bandwidth } nodig.
capacity-action-raise-open-files = Verhoog LimitNOFILE van { $service } naar { $value }.
capacity-action-investigate = Bekijk dit: { $what }

# hoe we hieraan komen
capacity-figures-title = Hoe deze getallen ontstaan
capacity-figures-intro = Elke behoefte wordt berekend uit de grootte van de school, het afstandsonderwijsprofiel en wat op deze machine is gemeten. De formule noemt haar invoer; de waarden en hun herkomst staan eronder.
capacity-col-input = Invoer
capacity-col-value = Waarde
capacity-col-source = Herkomst
capacity-source-directory = adresboek
capacity-source-profile = profiel
capacity-source-probe = gemeten
capacity-source-config = configuratie
capacity-source-constant = constante
capacity-source-storm = gemeten aanmeldpiek
capacity-source-model = hierboven berekend

# grootheden
capacity-figure-people = Personen
capacity-figure-active-people = Personen online tijdens de piek
capacity-figure-signin-rate = Aanmeldingen per seconde om 8:00
capacity-figure-cpu-scale = CPU-kostenfactor ten opzichte van de referentiemachine
capacity-figure-signin-cpu = Processor voor de aanmeldpiek
capacity-figure-request-rate = Paginaverzoeken per seconde
capacity-figure-request-cpu = Processor voor paginaverzoeken
capacity-figure-connections = Gelijktijdige verbindingen
capacity-figure-open-files = Open bestanden
capacity-figure-memory = Werkgeheugen
capacity-figure-disk-growth-per-day = Groei van de gegevens per schooldag
capacity-figure-disk-space-year = Schijfruimte per schooljaar
capacity-figure-disk-write-rate = Schrijfsnelheid van de schijf in het drukste uur
capacity-figure-commit-rate = Databasecommits per seconde
capacity-figure-uplink = Internetbandbreedte
capacity-figure-network = Bandbreedte op het lokale netwerk

# invoer
capacity-input-people = personen
capacity-input-students = leerlingen
capacity-input-teachers = leraren
capacity-input-staff = medewerkers
capacity-input-admins = beheerders
capacity-input-active-people = personen online
capacity-input-signin-rate = aanmeldingen per seconde
capacity-input-cores = kernen
capacity-input-verifies-per-sec = argon2id-verificaties per seconde
capacity-input-memory-kib = argon2id-geheugen in KiB
capacity-input-iterations = argon2id-doorgangen
capacity-input-calibration-verify-ms = CPU-tijd van één argon2id-verificatie op de referentiemachine
capacity-input-calibration-argon2-work = argon2id-werk per verificatie op de referentiemachine
capacity-input-cpu-scale = CPU-kostenfactor
capacity-input-signin-overhead-ms = CPU-tijd per aanmelding naast argon2id
capacity-input-request-rate = verzoeken per seconde
capacity-input-request-cpu-ms = CPU-tijd per paginaverzoek
capacity-input-connections = verbindingen
capacity-input-open-files-headroom = overige open bestanden van de webserver
capacity-input-os-baseline = geheugen van het systeem en andere diensten
capacity-input-web-baseline = basisgeheugen van de webserver
capacity-input-hash-threads = threads voor wachtwoordhashing
capacity-input-argon2-memory = geheugen per argon2id-verificatie
capacity-input-workers = werkprocessen van de webserver
capacity-input-per-worker = geheugen per werkproces
capacity-input-per-connection = geheugen per verbinding
capacity-input-per-session = geheugen per sessie
capacity-input-per-drive = geheugen per netwerkschijf
capacity-input-mail-connections-per-person = mailverbindingen per persoon
capacity-input-per-mail-connection = geheugen per mailverbinding
capacity-input-disk-growth-per-day = gegevensgroei per dag
capacity-input-busiest-hour-share = aandeel van de uploads van een dag in het drukste uur
capacity-input-commits-per-signin = databasecommits per aanmelding
capacity-input-session-touches-per-minute = sessie-updates per persoon per minuut

# gezondheidscontroles
capacity-health-title = Gezondheidscontroles
capacity-col-check = Controle
capacity-col-detail = Bevinding
capacity-health-disk-free = Vrije schijfruimte
capacity-health-memory = Gebruikt werkgeheugen
capacity-health-swap = Gebruikt wisselgeheugen
capacity-health-oom-kills = Processen gestopt wegens geheugentekort
capacity-health-mail-queue = Mailwachtrij
capacity-health-certificate = Certificaat
capacity-health-services = Schola-diensten
capacity-health-limits-hit = Bereikte limieten
capacity-health-backup = Back-up

# afbeeldingen en geschiedenis
capacity-disk-title = Prognose van de schijfruimte
capacity-disk-used = gebruikt
capacity-disk-forecast = prognose
capacity-disk-capacity = grootte van de schijf
capacity-disk-full-on = vol op { $date }
capacity-disk-none = De controles hebben nog geen gegevensschijf gemeten.
capacity-peaks-title = Ochtendpiek per dag
capacity-peaks-signins = aanmeldingen in de drukste minuut
capacity-peaks-p99 = traagste 1 % van de antwoorden (ms)
capacity-peaks-waiting = naar de wachtkamer gestuurd
capacity-peaks-none = Er is nog geen belasting vastgelegd; de webserver legt die elke minuut vast.
capacity-history-title = Eerdere controles
capacity-col-when = Wanneer
capacity-col-trigger = Gestart door
capacity-col-largest = Grootste school

# het profiel
capacity-profile-title = Afstandsonderwijsprofiel
capacity-profile-intro = Hoe de school Schola op haar drukste ochtend gebruikt. De standaardwaarden beschrijven afstandsonderwijs, het zwaarste geval: alle leerlingen thuis, elke les via de schoolserver. Een leeg veld krijgt de standaardwaarde.
capacity-profile-save = Profiel opslaan
capacity-profile-saved = Het profiel is opgeslagen. De volgende controle gebruikt het.
capacity-profile-default = Standaard: { $default }.
capacity-profile-range = Toegestaan: { $min } tot { $max }.
capacity-profile-out-of-range = { $field }: { $value } valt buiten het bereik. Toegestaan: { $min } tot { $max }. Er is niets opgeslagen.
capacity-profile-not-a-number = { $field }: "{ $value }" is geen getal. Er is niets opgeslagen.
capacity-profile-not-entered = niet ingevuld
capacity-field-students-online = Leerlingen online tijdens de piek
capacity-field-students-online-hint = Deel van de leerlingen dat Schola op de drukste ochtend gebruikt.
capacity-field-staff-online = Leraren en medewerkers online tijdens de piek
capacity-field-staff-online-hint = Deel van de leraren en medewerkers dat Schola op de drukste ochtend gebruikt.
capacity-field-storm-share = Personen die zich tijdens de piek aanmelden
capacity-field-storm-share-hint = Deel van iedereen dat zich binnen het piekvenster (rond 8:00) aanmeldt.
capacity-field-storm-window-secs = Piekvenster
capacity-field-storm-window-secs-hint = De tijd waarover die aanmeldingen verspreid zijn, bijv. 600 s van 7:55 tot 8:05.
capacity-field-requests-per-minute = Verzoeken per minuut per persoon
capacity-field-requests-per-minute-hint = Pagina's en bestanden die elke persoon na het aanmelden per minuut opvraagt.
capacity-field-connections-per-browser = Verbindingen per browser
capacity-field-connections-per-browser-hint = Verbindingen die één browser met de server openhoudt.
capacity-field-upload-per-teacher = Upload per leraar per dag
capacity-field-upload-per-teacher-hint = Werkbladen, correcties en opnames die een leraar op een schooldag opslaat.
capacity-field-upload-per-student = Upload per leerling per dag
capacity-field-upload-per-student-hint = Huiswerk, foto's en telefoonvideo's ervan die een leerling op een schooldag opslaat.
capacity-field-mails-per-person = Mails per persoon per dag
capacity-field-mails-per-person-hint = Mails die elke persoon op een schooldag ontvangt.
capacity-field-mail-size = Gemiddelde mailgrootte
capacity-field-mail-size-hint = De gemiddelde grootte van één mail met bijlagen.
capacity-field-drives-per-person = Netwerkschijven per persoon
capacity-field-drives-per-person-hint = Schijven die elke persoon tijdens de piek gekoppeld heeft (de thuismap is er één).
capacity-field-bandwidth-per-person = Bandbreedte per persoon online
capacity-field-bandwidth-per-person-hint = Gemiddelde downloadsnelheid van één persoon online: pagina's, werkbladen en bestanden, geen videogesprekken.
capacity-field-school-days = Schooldagen per jaar
capacity-field-school-days-hint = Het aantal dagen per jaar waarop de gegevens groeien.
capacity-field-uplink-bits = Internetverbinding van de school
capacity-field-uplink-bits-hint = Uploadbandbreedte van de internetaansluiting van de school, volgens het contract of de router. Die is offline niet te meten; leeg betekent niet ingevuld, en de controle zegt dat dan.

# eenheden
capacity-unit-percent = { $n } %
capacity-unit-cores = { $count ->
    [one] { $n } kern
   *[other] { $n } kernen
}
capacity-unit-days = { $count ->
    [one] { $n } dag
   *[other] { $n } dagen
}
capacity-unit-per-second = { $n }/s
capacity-unit-per-minute = { $n }/min
capacity-unit-per-day = { $n }/dag
capacity-unit-seconds = { $n } s
capacity-unit-ms = { $n } ms
capacity-unit-byte-prefixes = B KiB MiB GiB TiB PiB
capacity-unit-bit-prefixes = bit/s kbit/s Mbit/s Gbit/s Tbit/s
capacity-unit-mb = MB
capacity-unit-kb = kB
capacity-unit-mbit = Mbit/s
capacity-unit-kbit = kbit/s
capacity-unit-s = s
capacity-unit-per-minute-short = /min

# het gereedheidsrapport
capacity-report-html = Afdrukversie
capacity-report-pdf = PDF downloaden
capacity-report-title = Gereedheidsrapport: { $school }
capacity-report-subtitle = Kan deze schoolserver de afstandsonderwijsochtend van de school aan? Gecontroleerd op { $date }.
capacity-report-footer = Schola { $version } · { $school } · { $date }
capacity-report-back = Terug naar de capaciteitspagina
capacity-report-summary = Samenvatting
capacity-report-school = Grootte van de school
capacity-report-people-total = Iedereen
capacity-report-hardware = Hardware
capacity-report-host = Servernaam
capacity-report-cpu = Processor
capacity-report-cores = Kernen
capacity-report-ram = Werkgeheugen
capacity-report-ram-cgroup = { $amount } (beperkt voor Schola)
capacity-report-swap = Wisselgeheugen
capacity-report-disks = Schijven
capacity-report-disk-role-database = database
capacity-report-disk-role-files = bestanden
capacity-report-col-disk = Schijf
capacity-report-col-type = Type
capacity-report-col-size = Grootte
capacity-report-col-free = Vrij
capacity-report-col-seq-write = Schrijven
capacity-report-col-fsyncs = Schrijfbevestigingen
capacity-report-col-iops = Willekeurig lezen/schrijven
capacity-report-not-measured = niet gemeten
capacity-report-nics = Netwerk
capacity-report-nic-speed-unknown = snelheid onbekend
capacity-report-nic-down = niet verbonden
capacity-report-measured = Gemeten capaciteit
capacity-report-argon2 = Aanmeldcontroles per seconde (alle kernen)
capacity-report-argon2-params = Wachtwoord-hashing (argon2id)
capacity-report-argon2-params-value = { $memory } geheugen, { $iterations } rondes
capacity-report-storm = Gemeten aanmeldpiek
capacity-report-storm-people = Aangemelde personen
capacity-report-storm-window = Binnen
capacity-report-storm-rate = Aanmeldingen per seconde
capacity-report-storm-predicted = Voorspeld door het model
capacity-report-storm-p99-signin = Traagste 1 % van de aanmeldingen
capacity-report-storm-p99-start = Traagste 1 % van de startpagina's
capacity-report-storm-errors = Fouten
capacity-report-storm-waiting = Naar de wachtkamer gestuurd
capacity-report-no-storm = Er is geen aanmeldpiek gemeten; de oordelen komen uit het model en de gemeten machine.
capacity-report-verdicts = Oordeel per middel
capacity-report-col-needed = Nodig
capacity-report-col-have = Beschikbaar
capacity-report-col-headroom = Marge
capacity-report-upgrade = Aanbevolen uitbreiding
capacity-report-upgrade-none = Geen: deze machine kan de schoolochtend aan met het profiel hieronder.
capacity-report-profile = Gebruikt afstandsonderwijsprofiel
capacity-report-date = Datum
capacity-report-version = Schola-versie

# what the machine has, when it could not be measured (uplink not entered, link speed not reported)
capacity-unknown = onbekend
