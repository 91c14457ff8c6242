# Die Dienste-Seite (Verwaltung): Dienste, Grenzen und Last.
services-page-title = Dienste
services-list-title = Dienste und ihr Zustand
services-no-systemd = Auf diesem Rechner läuft kein systemd (ein Entwicklungs- oder Demo-Server), daher lässt sich der Zustand der Dienste nicht abfragen; die Zeile von schola-web stammt von diesem Prozess.
services-no-dpkg = Auf diesem Rechner gibt es kein dpkg, daher sind die installierten Versionen unbekannt.
services-col-service = Dienst
services-col-health = Zustand
services-col-version = Version
services-col-uptime = Laufzeit
services-col-turn-on = Einschalten mit
services-kind-schola = Schola-Dienst
services-kind-system = Systemdienst
services-health-running = läuft
services-health-starting = startet
services-health-stopping = hält an
services-health-stopped = angehalten
services-health-failed = fehlgeschlagen
services-health-off = aus (nicht installiert)
services-health-unknown = unbekannt
services-uptime-days = { $d } T. { $h } Std.
services-uptime-hours = { $h } Std. { $m } Min.
services-uptime-minutes = { $m } Min.
services-uptime-since = { $uptime }, seit { $since }
services-from-process = laut diesem Prozess
services-failed-log = Warum: journalctl -u { $unit }
services-comes-with = kommt mit { $package }
services-not-available = Dieses Paket gibt es noch nicht.
services-commands-as-root = Führe diese Befehle als root auf dem Server aus.
services-limits-title = Geltende Grenzen
services-col-limit = Grenze
services-col-value = Wert
services-col-source = Herkunft
services-limit-workers = Arbeits-Threads
services-limit-connections = Offene Verbindungen (alle Threads)
services-limit-connections-per-worker = Offene Verbindungen je Thread
services-limit-handshakes = Gleichzeitige TLS-Handshakes je Thread
services-limit-in-flight = Gleichzeitig bearbeitete Anfragen
services-limit-hash-threads = Threads für die Passwortprüfung
services-limit-signins-waiting = Anmeldungen in der Warteschlange der Passwortprüfung
services-limit-request-timeout = Zeit zum Senden der Anfrage-Header
services-limit-handshake-timeout = Zeit für den TLS-Handshake
services-limit-keep-alive = Untätige Verbindung bleibt offen für
services-seconds = { $n } s
services-source-config = in der Konfiguration gesetzt: { $key }
services-source-built-in = fest eingebaut
services-source-cores = { $count ->
    [one] einer je Kern ({ $n } Kern)
   *[other] einer je Kern ({ $n } Kerne)
}
services-source-per-worker = die offenen Verbindungen, auf die Threads verteilt
services-source-in-flight = { $count ->
    [one] abgeleitet: 256 je Kern ({ $n } Kern), zwischen 256 und 4.096
   *[other] abgeleitet: 256 je Kern ({ $n } Kerne), zwischen 256 und 4.096
}
services-source-signins = abgeleitet: 200 je Thread der Passwortprüfung, mindestens 64
services-load-title = Last gerade jetzt
services-col-measure = Was
services-col-now = Jetzt
services-col-meaning = Bedeutung
services-load-sessions = Sitzungen
services-load-sessions-note = Anmeldungen, die noch nicht beendet oder abgelaufen sind, auf allen Geräten
services-load-signins = Anmeldungen in der Passwortprüfung
services-load-signins-note = Wartend oder in Prüfung; über der Grenze werden neue Anmeldungen gebeten, es gleich noch einmal zu versuchen
services-load-in-flight = Anfragen in Bearbeitung
services-load-in-flight-note = Die Anfrage dieser Seite eingeschlossen; über der Grenze sehen Besucher den Warteraum
services-load-of = { $n } von { $limit }
services-limit-connections-per-client = Offene Verbindungen je Client-Adresse
services-limit-handshakes-per-client = Gleichzeitige TLS-Handshakes je Client-Adresse
services-limit-body-timeout = Längste Pause im Inhalt einer Anfrage
services-limit-body-rate = Langsamster angenommener Anfrageinhalt
services-bytes-per-second = { $n } Bytes/s
services-source-school = Größe der Schule (6 je Person, plus 1.024, mindestens 4.096), höchstens was { $gib } GiB Arbeitsspeicher fassen
services-source-per-client = ein Viertel der offenen Verbindungen, mindestens 256
services-source-handshakes-per-client = ein Viertel der Handshake-Plätze, mindestens 16
services-limit-metrics = Prometheus-Metriken
services-metrics-off = aus
services-source-metrics = auf der Appliance nur lokal (localhost), in einer Entwicklungsumgebung aus
services-limit-blocking-threads = Datenbank-Threads je Worker
