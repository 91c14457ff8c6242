//! The made-up people of the demo school, generated deterministically from a fixed seed, so every
//! demo (and every screenshot and bug report made with one) shows the same school.
//!
//! The names are the mix a school in Germany or Belgium actually has — German, Flemish and Dutch,
//! French, Turkish, Polish and a few others — with the umlauts, accents, apostrophes and particles
//! that login generation, sorting and every page have to get right.

/// The seed of the demo school. Changing it changes every name.
pub const SEED: u64 = 0x5C40_1A20_2026_0001;

pub const SCHOOL_NAME: &str = "Gesamtschule Am Lindenhof";
pub const MAIL_DOMAIN: &str = "lindenhof.schule.example";
pub const GRADES: std::ops::RangeInclusive<u32> = 5..=10;
pub const CLASS_LETTERS: [char; 4] = ['a', 'b', 'c', 'd'];
pub const STUDENTS_PER_CLASS: usize = 25;
pub const TEACHERS: usize = 50;
/// The staff-room group every demo teacher belongs to.
pub const STAFF_GROUP: &str = "kollegium";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoClass {
    /// `5a`
    pub name: String,
    /// `Klasse 5a`
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    /// `S-000123` for students, `L-0042` for teachers (Lehrkraft).
    pub external_id: String,
    pub given: String,
    pub family: String,
    /// For a student the one class they are in; for a teacher the classes they lead.
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSchool {
    pub classes: Vec<DemoClass>,
    pub students: Vec<DemoPerson>,
    pub teachers: Vec<DemoPerson>,
}

/// splitmix64: tiny, fast and good enough to pick names; not for anything secret.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0); the modulo bias is irrelevant for lists this short.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or("Alex")
    }
}

/// Names of one origin and how often it occurs among the school's families (in percent).
struct Origin {
    weight: usize,
    given: &'static [&'static str],
    family: &'static [&'static str],
}

const ORIGINS: &[Origin] = &[
    Origin {
        weight: 42,
        given: &[
            "Anna",
            "Lena",
            "Lukas",
            "Jonas",
            "Leon",
            "Finn",
            "Paul",
            "Emil",
            "Mia",
            "Emma",
            "Hannah",
            "Sophie",
            "Marie",
            "Lea",
            "Maximilian",
            "Felix",
            "Ben",
            "Elias",
            "Noah",
            "Jürgen",
            "Jörg",
            "Sören",
            "Käthe",
            "Günther",
            "Matthias",
            "Greta",
            "Lotta",
            "Till",
            "Moritz",
            "Jannik",
            "Nele",
            "Maja",
            "Frieda",
            "Anne-Sophie",
            "Lüder",
            "Björn",
            "Zoë",
            "Jörn",
        ],
        family: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Richter",
            "Klein",
            "Wolf",
            "Schröder",
            "Neumann",
            "Zimmermann",
            "Braun",
            "Krüger",
            "Hartmann",
            "Lange",
            "Groß",
            "Weiß",
            "Köhler",
            "Jäger",
            "Böhm",
            "Brückner",
            "Vogel",
            "Fuchs",
            "Möller",
            "von Ahlefeldt",
            "Straßburger",
            "Müller-Lüdenscheidt",
        ],
    },
    Origin {
        weight: 15,
        given: &[
            "Lotte", "Sanne", "Fien", "Jef", "Wout", "Lander", "Arne", "Jens", "Ruben", "Thijs",
            "Daan", "Sem", "Noor", "Femke", "Eline", "Wannes", "Stijn", "Bram", "Joris", "Anaïs",
            "Zoë", "Chloë", "Noëlle",
        ],
        family: &[
            "Van den Broeck",
            "D'Hondt",
            "Peeters",
            "Janssens",
            "Maes",
            "Jacobs",
            "Mertens",
            "Willems",
            "Claes",
            "Goossens",
            "Wouters",
            "De Smet",
            "Vermeulen",
            "Van Damme",
            "De Backer",
            "Verstraete",
            "Vandenberghe",
            "De Vos",
            "Van Acker",
            "Verhoeven",
            "de Jong",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smits",
            "Daniëls",
            "Michiels",
        ],
    },
    Origin {
        weight: 10,
        given: &[
            "François",
            "Chloé",
            "Léa",
            "Zoé",
            "Inès",
            "Théo",
            "Hugo",
            "Louis",
            "Camille",
            "Manon",
            "Célia",
            "Noémie",
            "Jérôme",
            "Hélène",
            "Océane",
            "Maël",
            "Gaëlle",
            "Loïc",
            "Renée",
            "Benoît",
            "Clémence",
            "Élodie",
            "Jean-Luc",
            "Marie-Claire",
        ],
        family: &[
            "Lefèvre",
            "Dubois",
            "Martin",
            "Bernard",
            "Dupont",
            "Lambert",
            "Lefebvre",
            "Fontaine",
            "Leclercq",
            "Dumont",
            "Mercier",
            "Girard",
            "Rousseau",
            "Gauthier",
            "Barbier",
            "Chevalier",
            "Lemaître",
            "Hébert",
            "Ménard",
            "Châtelain",
            "N'Diaye",
        ],
    },
    Origin {
        weight: 15,
        given: &[
            "Ömer",
            "Süleyman",
            "Ayşe",
            "Elif",
            "Zeynep",
            "Emir",
            "Yusuf",
            "Mehmet",
            "Çağla",
            "Gül",
            "Hülya",
            "Eren",
            "Kübra",
            "Özlem",
            "Şeyma",
            "Barış",
            "Burak",
            "İlayda",
            "Emre",
            "Merve",
            "Deniz",
            "Can",
        ],
        family: &[
            "Şahin", "Yılmaz", "Kaya", "Demir", "Çelik", "Öztürk", "Aydın", "Arslan", "Doğan",
            "Kılıç", "Aslan", "Çetin", "Koç", "Kurt", "Özdemir", "Yıldız", "Güneş", "Acar",
            "Korkmaz",
        ],
    },
    Origin {
        weight: 10,
        given: &[
            "Małgorzata",
            "Łukasz",
            "Wojciech",
            "Agnieszka",
            "Zofia",
            "Jakub",
            "Kacper",
            "Szymon",
            "Katarzyna",
            "Paweł",
            "Michał",
            "Zuzanna",
            "Wiktoria",
            "Bartłomiej",
            "Jędrzej",
            "Krzysztof",
            "Aleksandra",
            "Łucja",
            "Maciej",
        ],
        family: &[
            "Nowak",
            "Wójcik",
            "Woźniak",
            "Mazur",
            "Krawczyk",
            "Kaczmarek",
            "Zając",
            "Król",
            "Wieczorek",
            "Sikora",
            "Baran",
            "Dudek",
            "Pawlak",
            "Michalak",
            "Kołodziej",
            "Szewczyk",
            "Wróbel",
        ],
    },
    Origin {
        weight: 3,
        given: &[
            "Björn", "Søren", "Åsa", "Ingrid", "Sigrún", "Øystein", "Linnéa", "Mikkel",
        ],
        family: &[
            "Ødegaard",
            "Østergaard",
            "Sørensen",
            "Ångström",
            "Lindqvist",
            "Håkansson",
        ],
    },
    Origin {
        weight: 5,
        given: &[
            "Giulia", "Lorenzo", "José", "María", "João", "Inês", "Niccolò", "Lucía", "Martí",
        ],
        family: &[
            "Rossi",
            "García",
            "Fernández",
            "Gonçalves",
            "Muñoz",
            "Esposito",
            "Peña",
            "D'Angelo",
        ],
    },
];

impl SplitMix64 {
    fn name(&mut self) -> (String, String) {
        let total: usize = ORIGINS.iter().map(|o| o.weight).sum();
        let mut roll = self.below(total);
        let mut origin = &ORIGINS[0];
        for o in ORIGINS {
            if roll < o.weight {
                origin = o;
                break;
            }
            roll -= o.weight;
        }
        let given = self.pick(origin.given);
        // families mix: about one in seven has a family name from elsewhere
        let family = if self.below(7) == 0 {
            let other = &ORIGINS[self.below(ORIGINS.len())];
            self.pick(other.family)
        } else {
            self.pick(origin.family)
        };
        (given.to_string(), family.to_string())
    }
}

/// The whole demo school; the same every time.
pub fn generate() -> DemoSchool {
    let mut rng = SplitMix64(SEED);
    let classes: Vec<DemoClass> = GRADES
        .flat_map(|g| CLASS_LETTERS.iter().map(move |l| format!("{g}{l}")))
        .map(|name| DemoClass {
            display_name: format!("Klasse {name}"),
            name,
        })
        .collect();

    let mut students = Vec::with_capacity(classes.len() * STUDENTS_PER_CLASS);
    for class in &classes {
        for _ in 0..STUDENTS_PER_CLASS {
            let (given, family) = rng.name();
            students.push(DemoPerson {
                external_id: format!("S-{:06}", students.len() + 1),
                given,
                family,
                classes: vec![class.name.clone()],
            });
        }
    }

    // Every class gets a class teacher and a deputy (teachers 0..48 cycle through the classes
    // twice); about a third of the teachers lead a second class as well.
    let mut teachers = Vec::with_capacity(TEACHERS);
    for t in 0..TEACHERS {
        let (given, family) = rng.name();
        let first = &classes[t % classes.len()].name;
        let mut led = vec![first.clone()];
        if rng.below(3) == 0 {
            let second = &classes[rng.below(classes.len())].name;
            if second != first {
                led.push(second.clone());
            }
        }
        teachers.push(DemoPerson {
            external_id: format!("L-{:04}", t + 1),
            given,
            family,
            classes: led,
        });
    }
    DemoSchool {
        classes,
        students,
        teachers,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use schola_core::directory::{clean_name, validate_group_name};
    use schola_core::login::LoginScheme;

    #[test]
    fn the_demo_school_is_the_same_every_time() {
        let a = generate();
        let b = generate();
        assert_eq!(a, b);
        // and does not depend on anything but the seed: a few fixed points
        assert_eq!(a.students[0].external_id, "S-000001");
        assert_eq!(a.students[599].external_id, "S-000600");
        assert_eq!(a.teachers[41].external_id, "L-0042");
    }

    #[test]
    fn it_has_600_students_in_24_classes_and_50_teachers() {
        let s = generate();
        assert_eq!(s.classes.len(), 24);
        let names: Vec<&str> = s.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"5a"));
        assert_eq!(names.last(), Some(&"10d"));
        assert_eq!(s.classes[0].display_name, "Klasse 5a");
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), 24);
        for n in &names {
            validate_group_name(n).unwrap();
        }

        assert_eq!(s.students.len(), 600);
        let mut per_class: HashMap<&str, usize> = HashMap::new();
        for st in &s.students {
            assert_eq!(st.classes.len(), 1);
            *per_class.entry(st.classes[0].as_str()).or_default() += 1;
        }
        assert_eq!(per_class.len(), 24);
        assert!(per_class.values().all(|&n| n == 25), "{per_class:?}");

        assert_eq!(s.teachers.len(), 50);
        let mut led: HashMap<&str, usize> = HashMap::new();
        for t in &s.teachers {
            assert!((1..=2).contains(&t.classes.len()), "{t:?}");
            for c in &t.classes {
                assert!(names.contains(&c.as_str()));
                *led.entry(c.as_str()).or_default() += 1;
            }
        }
        assert_eq!(led.len(), 24, "every class has a class teacher");
        assert!(s.teachers.iter().any(|t| t.classes.len() == 2));

        let ids: HashSet<&str> = s
            .students
            .iter()
            .chain(&s.teachers)
            .map(|p| p.external_id.as_str())
            .collect();
        assert_eq!(ids.len(), 650);
    }

    #[test]
    fn names_are_varied_non_ascii_and_all_accepted() {
        let s = generate();
        let people: Vec<&DemoPerson> = s.students.iter().chain(&s.teachers).collect();
        let non_ascii = people
            .iter()
            .filter(|p| !p.given.is_ascii() || !p.family.is_ascii())
            .count();
        assert!(
            non_ascii > 100,
            "only {non_ascii} people with non-ASCII names"
        );
        assert!(people.iter().any(|p| p.family.contains('\'')));
        assert!(people.iter().any(|p| p.family.contains(' ')));
        let distinct: HashSet<(&str, &str)> = people
            .iter()
            .map(|p| (p.given.as_str(), p.family.as_str()))
            .collect();
        assert!(distinct.len() > 550, "{} distinct names", distinct.len());
        let scheme = LoginScheme::default();
        for p in people {
            clean_name("given", &p.given).unwrap();
            clean_name("family", &p.family).unwrap();
            clean_name("external id", &p.external_id).unwrap();
            assert!(scheme.base_login(&p.given, &p.family).is_some(), "{p:?}");
        }
    }
}
