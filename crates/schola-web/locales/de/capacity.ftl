# Die Kapazitätsseite (Verwaltung): trägt diese Maschine den Schulmorgen um 8:00, der
# Bereitschaftsbericht, und der Hinweis auf jeder Verwaltungsseite.
capacity-title = Kapazität
capacity-banner-text = Kapazitätsprüfung: { $problems }
capacity-banner-link = siehe Kapazität
capacity-warnings = { $count ->
    [one] { $n } Warnung
   *[other] { $n } Warnungen
}
capacity-failures = { $count ->
    [one] { $n } Fehler
   *[other] { $n } Fehler
}
capacity-level-ok = OK
capacity-level-warn = Warnung
capacity-level-fail = Fehler
capacity-trigger-cli = an der Konsole
capacity-trigger-timer = tägliche Prüfung
capacity-trigger-upgrade = nach einer Aktualisierung
capacity-trigger-web = von dieser Seite
capacity-trigger-storm = gemessener Anmeldesturm

# die letzte Prüfung
capacity-none-title = Noch keine Kapazitätsprüfung
capacity-none-text = Schola hat diese Maschine noch nicht geprüft. Es gibt drei Wege zu einer Prüfung: { $command } als root an der Konsole des Servers ausführen, unten „Jetzt prüfen“ drücken (auf einer Appliance) oder auf die tägliche Prüfung warten, die jede Nacht läuft.
capacity-report-none = Es gibt noch keine Prüfung für einen Bericht. Die Kapazitätsseite sagt, wie man eine startet.
capacity-unreadable = Die letzte Prüfung (vom { $when }) konnte nicht gelesen werden: { $error }. Bitte eine neue Prüfung starten.
capacity-summary-title = Ergebnis der letzten Prüfung
capacity-overall = Gesamt: { $level }
capacity-ran = Geprüft am { $when } UTC ({ $trigger }), von Schola { $version }.
capacity-largest = Die größte Schule, die diese Maschine um 8:00 trägt: { $largest } Personen (diese Schule: { $this }).
capacity-largest-measured = Diese Zahl stammt aus einem gemessenen Anmeldesturm.
capacity-bars-title = Bedarf und Kapazität je Ressource
capacity-bar-needed = benötigt
capacity-bar-have = vorhanden
capacity-verdicts-title = Ergebnis je Ressource
capacity-col-resource = Ressource
capacity-col-level = Ergebnis
capacity-col-numbers = Zahlen
capacity-col-action = Was zu tun ist
capacity-numbers = benötigt { $needed }, vorhanden { $have }, Reserve { $headroom } %
capacity-numbers-no-need = benötigt { $needed }, vorhanden { $have }
capacity-measured = gemessen mit einem Anmeldesturm
capacity-modelled = aus dem Modell
capacity-no-action = nichts zu tun
capacity-fix-button = Übernehmen: { $setting } = { $value } setzen
capacity-fix-console = Zum Übernehmen { $command } als root auf dem Server ausführen.
capacity-check-now = Jetzt prüfen
capacity-check-console = Für eine Prüfung jetzt { $command } als root auf dem Server ausführen.
capacity-check-waiting = Eine Prüfung ist angefordert und läuft innerhalb einer Minute. Laden Sie diese Seite dann neu, um das Ergebnis zu sehen.
capacity-fix-waiting = Eine Änderung wartet darauf, übernommen zu werden.
capacity-check-requested = Die Prüfung ist angefordert. Sie läuft innerhalb einer Minute; laden Sie diese Seite dann neu, um das Ergebnis zu sehen.
capacity-fix-requested = Die Änderung { $setting } = { $value } ist angefordert. Der Helfer übernimmt sie und startet den Webserver innerhalb einer Minute neu; angemeldete Personen bleiben angemeldet. Die nächste Prüfung zeigt den neuen Wert.
capacity-fix-forged = Diese Änderung schlägt die letzte Prüfung nicht vor. Laden Sie die Seite neu und nutzen Sie die Schaltfläche dort.
capacity-not-managed = Dieser Server ist keine installierte Appliance, daher kann die Seite weder eine Prüfung noch eine Änderung starten. Führen Sie stattdessen { $command } als root auf dem Server aus.
capacity-request-failed = Die Anforderung konnte nicht für den Helfer hinterlegt werden: { $error }

# Ressourcen
capacity-resource-signin-cpu = Prozessor für Anmeldungen
capacity-resource-request-cpu = Prozessor für Seitenaufrufe
capacity-resource-memory = Arbeitsspeicher (RAM)
capacity-resource-connections = Gleichzeitige Verbindungen
capacity-resource-open-files = Offene Dateien
capacity-resource-disk-space = Speicherplatz
capacity-resource-disk-write = Schreibleistung der Platte
capacity-resource-uplink = Internetanbindung
capacity-resource-network = Lokales Netz

# Maßnahmen, eine je Art
capacity-action-set-config = { $setting } = { $value } setzen.
capacity-action-add-memory = { $amount } Arbeitsspeicher hinzufügen.
capacity-action-add-cores = Nötig ist eine Maschine mit { $cores } Kernen dieser Geschwindigkeit.
capacity-action-add-disk-full = Die Platte ist in { $days } Tagen voll: { $amount } hinzufügen.
capacity-action-add-disk = { $amount } Speicherplatz hinzufügen.
capacity-action-faster-disk = Die Daten auf eine SSD legen: diese Platte schreibt nicht schnell genug.
capacity-action-enter-uplink = Tragen Sie unten die Internetanbindung der Schule ein; sie lässt sich offline nicht messen.
capacity-action-faster-uplink = Nötig ist eine Internetanbindung mit mindestens { $bandwidth }.
capacity-action-faster-network = Nötig ist eine Netzwerkanbindung mit mindestens { $bandwidth }.
capacity-action-raise-open-files = LimitNOFILE von { $service } auf { $value } erhöhen.
capacity-action-investigate = Bitte prüfen: { $what }

# wie wir darauf kommen
capacity-figures-title = Wie diese Zahlen entstehen
capacity-figures-intro = Jeder Bedarf wird aus der Größe der Schule, dem Fernunterrichtsprofil und den Messungen auf dieser Maschine berechnet. Die Formel nennt ihre Eingaben; deren Werte und Herkunft stehen darunter.
capacity-col-input = Eingabe
capacity-col-value = Wert
capacity-col-source = Herkunft
capacity-source-directory = Verzeichnis
capacity-source-profile = Profil
capacity-source-probe = gemessen
capacity-source-config = Konfiguration
capacity-source-constant = Konstante
capacity-source-storm = gemessener Anmeldesturm
capacity-source-model = oben berechnet

# Größen
capacity-figure-people = Personen
capacity-figure-active-people = Personen online zur Spitze
capacity-figure-signin-rate = Anmeldungen je Sekunde um 8:00
capacity-figure-cpu-scale = CPU-Kostenfaktor gegenüber der Referenzmaschine
capacity-figure-signin-cpu = Prozessor für den Anmeldesturm
capacity-figure-request-rate = Seitenaufrufe je Sekunde
capacity-figure-request-cpu = Prozessor für Seitenaufrufe
capacity-figure-connections = Gleichzeitige Verbindungen
capacity-figure-open-files = Offene Dateien
capacity-figure-memory = Arbeitsspeicher
capacity-figure-disk-growth-per-day = Datenzuwachs je Schultag
capacity-figure-disk-space-year = Speicherplatz je Schuljahr
capacity-figure-disk-write-rate = Schreibrate der Platte in der vollsten Stunde
capacity-figure-commit-rate = Datenbank-Commits je Sekunde
capacity-figure-uplink = Internetbandbreite
capacity-figure-network = Bandbreite im lokalen Netz

# Eingaben
capacity-input-people = Personen
capacity-input-students = Schülerinnen und Schüler
capacity-input-teachers = Lehrkräfte
capacity-input-staff = Mitarbeitende
capacity-input-admins = Administratoren
capacity-input-active-people = Personen online
capacity-input-signin-rate = Anmeldungen je Sekunde
capacity-input-cores = Kerne
capacity-input-verifies-per-sec = argon2id-Prüfungen je Sekunde
capacity-input-memory-kib = argon2id-Speicher in KiB
capacity-input-iterations = argon2id-Durchläufe
capacity-input-calibration-verify-ms = CPU-Zeit einer argon2id-Prüfung auf der Referenzmaschine
capacity-input-calibration-argon2-work = argon2id-Aufwand je Prüfung auf der Referenzmaschine
capacity-input-cpu-scale = CPU-Kostenfaktor
capacity-input-signin-overhead-ms = CPU-Zeit je Anmeldung neben argon2id
capacity-input-request-rate = Seitenaufrufe je Sekunde
capacity-input-request-cpu-ms = CPU-Zeit je Seitenaufruf
capacity-input-connections = Verbindungen
capacity-input-open-files-headroom = weitere offene Dateien des Webservers
capacity-input-os-baseline = Arbeitsspeicher für System und andere Dienste
capacity-input-web-baseline = Grundbedarf des Webservers
capacity-input-hash-threads = Threads für Passwort-Hashing
capacity-input-argon2-memory = Arbeitsspeicher je argon2id-Prüfung
capacity-input-workers = Arbeitsprozesse des Webservers
capacity-input-per-worker = Arbeitsspeicher je Arbeitsprozess
capacity-input-per-connection = Arbeitsspeicher je Verbindung
capacity-input-per-session = Arbeitsspeicher je Sitzung
capacity-input-per-drive = Arbeitsspeicher je Netzlaufwerk
capacity-input-mail-connections-per-person = Mail-Verbindungen je Person
capacity-input-per-mail-connection = Arbeitsspeicher je Mail-Verbindung
capacity-input-disk-growth-per-day = Datenzuwachs je Tag
capacity-input-busiest-hour-share = Anteil der Tagesdaten in der vollsten Stunde
capacity-input-commits-per-signin = Datenbank-Commits je Anmeldung
capacity-input-session-touches-per-minute = Sitzungsaktualisierungen je Person und Minute

# Zustandsprüfungen
capacity-health-title = Zustandsprüfungen
capacity-col-check = Prüfung
capacity-col-detail = Befund
capacity-health-disk-free = Freier Speicherplatz
capacity-health-memory = Belegter Arbeitsspeicher
capacity-health-swap = Belegter Auslagerungsspeicher
capacity-health-oom-kills = Wegen Speichermangel beendete Prozesse
capacity-health-mail-queue = Mail-Warteschlange
capacity-health-certificate = Zertifikat
capacity-health-services = Schola-Dienste
capacity-health-limits-hit = Erreichte Grenzen
capacity-health-backup = Datensicherung

# Bilder und Verlauf
capacity-disk-title = Prognose des Speicherplatzes
capacity-disk-used = belegt
capacity-disk-forecast = Prognose
capacity-disk-capacity = Größe der Platte
capacity-disk-full-on = voll am { $date }
capacity-disk-none = Die Prüfungen haben noch keine Datenplatte gemessen.
capacity-peaks-title = Morgendliche Spitze je Tag
capacity-peaks-signins = Anmeldungen in der vollsten Minute
capacity-peaks-p99 = langsamstes 1 % der Antworten (ms)
capacity-peaks-waiting = in den Warteraum geschickt
capacity-peaks-none = Es ist noch keine Last aufgezeichnet; der Webserver zeichnet sie jede Minute auf.
capacity-history-title = Frühere Prüfungen
capacity-col-when = Wann
capacity-col-trigger = Gestartet
capacity-col-largest = Größte Schule

# das Profil
capacity-profile-title = Fernunterrichtsprofil
capacity-profile-intro = Wie die Schule Schola an ihrem vollsten Morgen nutzt. Die Vorgaben beschreiben Fernunterricht, den schwersten Fall: alle Kinder zu Hause, jeder Unterricht über den Schulserver. Ein leeres Feld nimmt seine Vorgabe.
capacity-profile-save = Profil speichern
capacity-profile-saved = Das Profil ist gespeichert. Die nächste Prüfung verwendet es.
capacity-profile-default = Vorgabe: { $default }.
capacity-profile-range = Erlaubt: { $min } bis { $max }.
capacity-profile-out-of-range = { $field }: { $value } liegt außerhalb des erlaubten Bereichs. Erlaubt: { $min } bis { $max }. Es wurde nichts gespeichert.
capacity-profile-not-a-number = { $field }: „{ $value }“ ist keine Zahl. Es wurde nichts gespeichert.
capacity-profile-not-entered = nicht eingetragen
capacity-field-students-online = Schülerinnen und Schüler online zur Spitze
capacity-field-students-online-hint = Anteil der Schülerinnen und Schüler, die Schola am vollsten Morgen nutzen.
capacity-field-staff-online = Lehrkräfte und Mitarbeitende online zur Spitze
capacity-field-staff-online-hint = Anteil der Lehrkräfte und Mitarbeitenden, die Schola am vollsten Morgen nutzen.
capacity-field-storm-share = Personen, die sich im Ansturm anmelden
capacity-field-storm-share-hint = Anteil aller, die sich im Zeitfenster des Ansturms (um 8:00) anmelden.
capacity-field-storm-window-secs = Zeitfenster des Ansturms
capacity-field-storm-window-secs-hint = Über diese Zeit verteilen sich die Anmeldungen, z. B. 600 s von 7:55 bis 8:05.
capacity-field-requests-per-minute = Seitenaufrufe je Minute und Person
capacity-field-requests-per-minute-hint = Seiten und Dateien, die jede Person nach der Anmeldung je Minute abruft.
capacity-field-connections-per-browser = Verbindungen je Browser
capacity-field-connections-per-browser-hint = Verbindungen, die ein Browser zum Server offen hält.
capacity-field-upload-per-teacher = Hochgeladene Daten je Lehrkraft und Tag
capacity-field-upload-per-teacher-hint = Arbeitsblätter, Korrekturen und Aufnahmen, die eine Lehrkraft an einem Schultag speichert.
capacity-field-upload-per-student = Hochgeladene Daten je Schülerin oder Schüler und Tag
capacity-field-upload-per-student-hint = Hausaufgaben, Fotos und Handyvideos davon, die ein Kind an einem Schultag speichert.
capacity-field-mails-per-person = Mails je Person und Tag
capacity-field-mails-per-person-hint = Mails, die jede Person an einem Schultag erhält.
capacity-field-mail-size = Mittlere Mailgröße
capacity-field-mail-size-hint = Die mittlere Größe einer Mail mit Anhängen.
capacity-field-drives-per-person = Netzlaufwerke je Person
capacity-field-drives-per-person-hint = Laufwerke, die jede Person zur Spitze verbunden hat (das Heimlaufwerk ist eines).
capacity-field-bandwidth-per-person = Bandbreite je Person online
capacity-field-bandwidth-per-person-hint = Mittlere Downloadrate einer Person online: Seiten, Arbeitsblätter und Dateien, keine Videokonferenzen.
capacity-field-school-days = Schultage im Jahr
capacity-field-school-days-hint = An so vielen Tagen im Jahr wachsen die Daten.
capacity-field-uplink-bits = Internetanbindung der Schule
capacity-field-uplink-bits-hint = Upload-Bandbreite des Internetanschlusses der Schule, laut Vertrag oder Router. Sie lässt sich offline nicht messen; leer heißt nicht eingetragen, und die Prüfung sagt das dann.

# Einheiten
capacity-unit-percent = { $n } %
capacity-unit-cores = { $count ->
    [one] { $n } Kern
   *[other] { $n } Kerne
}
capacity-unit-days = { $count ->
    [one] { $n } Tag
   *[other] { $n } Tage
}
capacity-unit-per-second = { $n }/s
capacity-unit-per-minute = { $n }/min
capacity-unit-per-day = { $n }/Tag
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

# der Bereitschaftsbericht
capacity-report-html = Druckansicht
capacity-report-pdf = PDF herunterladen
capacity-report-title = Bereitschaftsbericht: { $school }
capacity-report-subtitle = Trägt dieser Schulserver den Fernunterrichtsmorgen der Schule? Geprüft am { $date }.
capacity-report-footer = Schola { $version } · { $school } · { $date }
capacity-report-back = Zurück zur Kapazitätsseite
capacity-report-summary = Zusammenfassung
capacity-report-school = Größe der Schule
capacity-report-people-total = Alle
capacity-report-hardware = Hardware
capacity-report-host = Servername
capacity-report-cpu = Prozessor
capacity-report-cores = Kerne
capacity-report-ram = Arbeitsspeicher
capacity-report-ram-cgroup = { $amount } (für Schola begrenzt)
capacity-report-swap = Auslagerungsspeicher
capacity-report-disks = Platten
capacity-report-disk-role-database = Datenbank
capacity-report-disk-role-files = Dateien
capacity-report-col-disk = Platte
capacity-report-col-type = Typ
capacity-report-col-size = Größe
capacity-report-col-free = Frei
capacity-report-col-seq-write = Schreiben
capacity-report-col-fsyncs = Schreibbestätigungen
capacity-report-col-iops = Zufällig lesen/schreiben
capacity-report-not-measured = nicht gemessen
capacity-report-nics = Netzwerk
capacity-report-nic-speed-unknown = Geschwindigkeit unbekannt
capacity-report-nic-down = getrennt
capacity-report-measured = Gemessene Kapazität
capacity-report-argon2 = Anmeldeprüfungen je Sekunde (alle Kerne)
capacity-report-argon2-params = Passwort-Hashing (argon2id)
capacity-report-argon2-params-value = { $memory } Speicher, { $iterations } Durchläufe
capacity-report-storm = Gemessener Anmeldesturm
capacity-report-storm-people = Angemeldete Personen
capacity-report-storm-window = Innerhalb von
capacity-report-storm-rate = Anmeldungen je Sekunde
capacity-report-storm-predicted = Vom Modell vorhergesagt
capacity-report-storm-p99-signin = Langsamstes 1 % der Anmeldungen
capacity-report-storm-p99-start = Langsamstes 1 % der Startseiten
capacity-report-storm-errors = Fehler
capacity-report-storm-waiting = In den Warteraum geschickt
capacity-report-no-storm = Es wurde kein Anmeldesturm gemessen; die Ergebnisse stammen aus dem Modell und der gemessenen Maschine.
capacity-report-verdicts = Ergebnis je Ressource
capacity-report-col-needed = Benötigt
capacity-report-col-have = Vorhanden
capacity-report-col-headroom = Reserve
capacity-report-upgrade = Empfohlene Aufrüstung
capacity-report-upgrade-none = Keine: diese Maschine trägt den Schulmorgen mit dem unten stehenden Profil.
capacity-report-profile = Verwendetes Fernunterrichtsprofil
capacity-report-date = Datum
capacity-report-version = Schola-Version

# what the machine has, when it could not be measured (uplink not entered, link speed not reported)
capacity-unknown = unbekannt
