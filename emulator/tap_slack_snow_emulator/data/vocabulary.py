"""Word lists the generated organisation draws its names, titles, apps and log details from.

Made-up but realistic values (names, job titles, time zones, app and service names, company
names, browser user agents, ISPs) so that rows look like a real Slack organisation's.
"""

FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Katherine",
    "John",
    "Hedy",
    "Donald",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
    "Maria",
    "Jose",
    "Wei",
    "Yuki",
    "Priya",
    "Olu",
    "Fatima",
    "Lars",
    "Ingrid",
    "Mateo",
    "Chen",
    "Aisha",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
    "Hana",
    "Kofi",
    "Sven",
    "Zoe",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners",
    "Johnson",
    "McCarthy",
    "Lamarr",
    "Knuth",
    "Wilson",
    "Rossum",
    "Borg",
    "Stroustrup",
    "Garcia",
    "Silva",
    "Zhang",
    "Tanaka",
    "Patel",
    "Adeyemi",
    "Khan",
    "Nilsson",
    "Berg",
    "Rossi",
    "Li",
    "Okafor",
    "Smith",
    "Brown",
    "Martin",
    "Kim",
    "Suzuki",
    "Mensah",
    "Larsen",
    "Weber",
)
TITLES = (
    "Engineer",
    "Senior Engineer",
    "Product Manager",
    "Designer",
    "Account Executive",
    "Support Specialist",
    "Data Analyst",
    "Recruiter",
    "Finance Manager",
    "",
    "",
)
TIMEZONES = (
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("America/Sao_Paulo", "Brasilia Standard Time", -10800),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("Asia/Kolkata", "India Standard Time", 19800),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
    ("Australia/Sydney", "Australian Eastern Daylight Time", 39600),
)
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES", "pt-BR")
COLORS = ("9f69e7", "4bbe2e", "e7392d", "3c989f", "674b1b", "e96699", "5b89d5", "e0a729")
APP_NAMES = (
    "Jira Cloud",
    "GitHub",
    "Google Drive",
    "Zoom",
    "PagerDuty",
    "Salesforce",
    "Asana",
    "Polly",
    "Giphy",
    "Workday",
)
SERVICE_NAMES = ("Google Calendar", "Airbrake", "RSS", "Incoming WebHooks", "Twitter", "Jenkins CI")
COMPANIES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
)
REGIONS = ("HQ", "EMEA", "Americas", "APAC", "Engineering", "Sales", "Support", "Labs")
USER_AGENTS = (
    "SlackWeb Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/126.0.0.0 Safari/537.36",
    "SlackWeb Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Slack/4.38.125 Chrome/124.0.6367.243 Electron/30.1.0 Safari/537.36 Sonic Slack_SSB/4.38.125",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Slack/4.39.90 Chrome/126.0.6478.127 Electron/31.1.0 Safari/537.36 Sonic Slack_SSB/4.39.90",
    "com.tinyspeck.chatlyio/24.06.10 (iPhone; iOS 17.5.1; Scale/3.00)",
    "Slack/24.06.10.0 (Samsung SM-S918B; Android 14)",
    "Slack/4.38.125 (Linux; x86_64) Electron/30.1.0",
)
GEO = (
    ("Comcast Cable", "US", "CA"),
    ("Verizon Fios", "US", "NY"),
    ("Deutsche Telekom AG", "DE", "BE"),
    ("British Telecommunications", "GB", "ENG"),
    ("NTT Communications", "JP", "13"),
    ("Telstra", "AU", "NSW"),
    ("Reliance Jio", "IN", "MH"),
    (None, None, None),
)
IP_FIRST_OCTETS = (73, 98, 24, 185, 203, 50, 104, 172, 81, 62, 37, 91, 142, 155, 176, 212)

# SCIM enterprise extension (HR attributes an identity provider pushes): department ->
# (division, cost centre). Departments are weighted by their position (earlier: larger).
DEPARTMENTS = (
    ("Engineering", "Product & Technology", "CC-4100"),
    ("Sales", "Go To Market", "CC-2100"),
    ("Customer Support", "Go To Market", "CC-2300"),
    ("Marketing", "Go To Market", "CC-2200"),
    ("Product", "Product & Technology", "CC-4200"),
    ("Finance", "General & Administrative", "CC-1100"),
    ("People", "General & Administrative", "CC-1200"),
    ("Legal", "General & Administrative", "CC-1300"),
)
