# De pagina Diensten (beheer): diensten, grenzen en belasting.
services-page-title = Diensten
services-list-title = Diensten en hun toestand
services-no-systemd = Op deze machine draait geen systemd (een ontwikkel- of demoserver), dus de toestand van de diensten kan niet worden opgevraagd; de regel van schola-web komt van dit proces.
services-no-dpkg = Op deze machine is dpkg niet beschikbaar, dus de geïnstalleerde versies zijn onbekend.
services-col-service = Dienst
services-col-health = Toestand
services-col-version = Versie
services-col-uptime = Looptijd
services-col-turn-on = Aanzetten met
services-kind-schola = Schola-dienst
services-kind-system = systeemdienst
services-health-running = draait
services-health-starting = start op
services-health-stopping = stopt
services-health-stopped = gestopt
services-health-failed = mislukt
services-health-off = uit (niet geïnstalleerd)
services-health-unknown = onbekend
services-uptime-days = { $d } d { $h } u
services-uptime-hours = { $h } u { $m } min
services-uptime-minutes = { $m } min
services-uptime-since = { $uptime }, sinds { $since }
services-from-process = volgens dit proces
services-failed-log = Waarom: journalctl -u { $unit }
services-comes-with = komt met { $package }
services-not-available = Dit pakket is nog niet beschikbaar.
services-commands-as-root = Voer deze opdrachten als root uit op de server.
services-limits-title = Geldende grenzen
services-col-limit = Grens
services-col-value = Waarde
services-col-source = Herkomst
services-limit-workers = Werkthreads
services-limit-connections = Open verbindingen (alle threads)
services-limit-connections-per-worker = Open verbindingen per thread
services-limit-handshakes = Gelijktijdige TLS-handshakes per thread
services-limit-in-flight = Gelijktijdig behandelde verzoeken
services-limit-hash-threads = Threads voor de wachtwoordcontrole
services-limit-signins-waiting = Aanmeldingen in de wachtrij van de wachtwoordcontrole
services-limit-request-timeout = Tijd om de headers van het verzoek te sturen
services-limit-handshake-timeout = Tijd om de TLS-handshake af te ronden
services-limit-keep-alive = Inactieve verbinding blijft open gedurende
services-seconds = { $n } s
services-source-config = ingesteld in de configuratie: { $key }
services-source-built-in = ingebouwd
services-source-cores = { $count ->
    [one] één per kern ({ $n } kern)
   *[other] één per kern ({ $n } kernen)
}
services-source-per-worker = de open verbindingen verdeeld over de threads
services-source-in-flight = { $count ->
    [one] afgeleid: 256 per kern ({ $n } kern), tussen 256 en 4.096
   *[other] afgeleid: 256 per kern ({ $n } kernen), tussen 256 en 4.096
}
services-source-signins = afgeleid: 200 per thread van de wachtwoordcontrole, minstens 64
services-load-title = Belasting op dit moment
services-col-measure = Wat
services-col-now = Nu
services-col-meaning = Betekenis
services-load-sessions = Sessies
services-load-sessions-note = Aanmeldingen die nog niet beëindigd of verlopen zijn, op alle apparaten
services-load-signins = Aanmeldingen bij de wachtwoordcontrole
services-load-signins-note = Wachtend of in controle; boven de grens wordt nieuwe aanmeldingen gevraagd het zo meteen opnieuw te proberen
services-load-in-flight = Verzoeken in behandeling
services-load-in-flight-note = Het verzoek van deze pagina meegeteld; boven de grens zien bezoekers de wachtkamer
services-load-of = { $n } van { $limit }
services-limit-connections-per-client = Open verbindingen per clientadres
services-limit-handshakes-per-client = Gelijktijdige TLS-handshakes per clientadres
services-limit-body-timeout = Langste pauze in de inhoud van een verzoek
services-limit-body-rate = Traagste geaccepteerde inhoud van een verzoek
services-bytes-per-second = { $n } bytes/s
services-source-school = de grootte van de school (6 per persoon, plus 1.024, minstens 4.096), hoogstens wat { $gib } GiB geheugen kan bevatten
services-source-per-client = een kwart van de open verbindingen, minstens 256
services-source-handshakes-per-client = een kwart van de handshakeplaatsen, minstens 16
services-limit-metrics = Prometheus-metrieken
services-metrics-off = uit
services-source-metrics = op de appliance alleen lokaal (localhost), in een ontwikkelomgeving uit
services-limit-blocking-threads = Databasethreads per worker
