"""Word lists for the built-in pseudonymiser. Written for this project (no external data).

The name lists reflect who lives in Dutch social housing: Dutch, Frisian, Moroccan, Turkish,
Surinamese, Antillean, Cape Verdean, Polish, Bulgarian, Romanian, Somali, Eritrean, Syrian,
Afghan, Ghanaian, Nigerian, Chinese and Vietnamese names. They are recall aids, not a census:
names outside the lists are still caught after a title, initials or a relation word
("mevr.", "J.", "buurman ..."), see pseudonymise.py. Extend the lists rather than the regexes.

IDENTITY_TERMS are never replaced: they are what the detector needs ("Marokkaanse", "moslima").
"""

from __future__ import annotations


def _words(block: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in block.split())


FIRST_NAMES = _words("""
    Aad Aafke Aart Abdel Abdelkader Abdelhak Abdellah Abdullah Abdul Abdi Adam Adnan Ahmed Ahmet
    Aicha Aisha Ali Alper Amal Amina Amir Amira Anouk Anton Anna Anne Anneke Annie Arie Arjen
    Aziz Ayse Ayşe Aysel Bart Bas Bert Bilal Bram Burak Can Carla Cees Chantal Chris Cor Corrie
    Daan Dennis Dewi Dirk Dries Dunya Ebru Eddy Elif Els Emine Emre Erik Esra Esther Fadma Fatima
    Fatma Fenna Femke Fleur Frank Frans Freek Gerrit Gerard Gert Gijs Grace Hamid Hanna Hans
    Harm Hasan Hassan Hatice Hendrik Henk Hennie Hüseyin Huseyin Ibrahim Ilse Imane Ineke Ingrid
    Iris Jaap Jamal Jan Janna Jannie Jasper Jeroen Joke Johan Joost Joris Jos Kees Kelly Kemal
    Khadija Klaas Kofi Kwame Lars Latifa Leyla Lieke Linda Lisa Lotte Luuk Maarten Malika
    Mariam Maria Marieke Marloes Martijn Mehmet Meryem Mila Mirjam Mo Mohamed Mohammed Mustafa
    Nadia Naima Nicole Niels Nina Noor Nora Nouredine Omar Orhan Özlem Ozlem Pascal Patrick
    Petra Piet Pieter Rachid Rachida Ramon Rik Rob Robin Ronald Rutger Saida Samira Sander Sanne
    Sara Sarah Selim Sem Sevda Sietske Soufiane Stefan Suzan Tarik Thijs Tim Tineke Tom Ton
    Tom Tuğba Tugba Wim Willem Wout Yasmina Yasmine Yassine Yusuf Youssef Zeynep Zohra
    Agnieszka Andrzej Anna Dorota Ewa Grzegorz Katarzyna Krzysztof Magdalena Marek Marta Michał
    Michal Piotr Tomasz Wojciech Ivan Georgi Dimitar Elena Ioana Mihai Andrei Florin Gheorghe
    Ahmad Farah Hamza Karim Layla Leila Mahmoud Nour Omar Rania Sami Yara Zainab
    Abdirahman Ayaan Faduma Hodan Hibo Mohamud Ahmed Asha Deka Filsan Ilhan Yusra
    Aman Desta Filmon Hagos Mulu Robel Selam Semhar Tesfay Yonas Yohannes Senait
    Ama Abena Akosua Kwabena Kwaku Kojo Yaw Efua Chinedu Ngozi Emeka Oluwaseun Tunde
    Farid Farida Habib Hamida Massoud Najib Parwin Shirin Wahid Zahra
    Glenn Ruben Jurgen Shanice Sharon Romano Rudi Rinaldo Dwight Kenneth Marlon Quincy Gerson
    Wei Ling Mei Jun Li Hui Minh Thanh Hoa Lan Nguyen
    Maria José Joao João Manuel Ana Carlos Edson Nilton
    Jelle Sjoerd Wiebe Tjitske Hylke Sybren Baukje Geertje Hessel Jildou
""")

SURNAMES = _words("""
    Bakker Visser Smit Meijer Meyer Mulder Bos Vos Peters Hendriks Dekker Brouwer Dijkstra Kok
    Jansen Janssen Vermeulen Willems Hoekstra Koster Prins Huisman Kuipers Postma Wijnands
    Schouten Timmermans Verhoeven Jacobs Maas Kramer Groot Boer Vries Jong Wit Graaf Haan Leeuw
    Berg Veen Heuvel Dam Linden Beek Meer Wal Boom Vliet Bosch Hoving Veenstra Wiersma Zijlstra
    Yilmaz Kaya Demir Şahin Sahin Çelik Celik Yıldız Yildiz Öztürk Ozturk Aydın Aydin Arslan
    Doğan Dogan Kılıç Kilic Aslan Çetin Cetin Koç Koc Kurt Özdemir Ozdemir Bakkal Karaca Polat
    Amrani Bouzid Benali Bennani Haddou Ouali Aziz Chaouch Ziani Idrissi Tahiri Mansouri
    Bouzidi Ouahbi Azzouzi Abbou Boukhari Charrouf Hamdi Kharbouch Lamrani Moussaoui Oukili
    Ramdani Saidi Touzani Zaoui Aarab Achahbar Boulahrouz Chakir Elhadi
    Mensah Boateng Owusu Asante Osei Appiah Agyeman Adjei Okafor Okonkwo Adeyemi Haile
    Tesfaye Gebremedhin Kidane Tekle Abraha Mohamud Warsame Farah Hussein Jama Omar Abdi
    Rahimi Hosseini Ahmadi Karimi Sultani Noori Haidari Al-Hassan Alhassan Khalil Haddad
    Nasser Darwish Hamdan Kowalski Nowak Wiśniewski Wisniewski Wójcik Wojcik Kowalczyk
    Kamiński Kaminski Lewandowski Zieliński Zielinski Szymański Szymanski Dąbrowski Dabrowski
    Popescu Ionescu Popa Dumitru Stan Georgiev Ivanov Dimitrov Petrov Stoyanov
    Lachman Ramdin Jagessar Mahabier Sewnarain Biharie Kalloe Sardjoe Pinas Karsters Kross
    Doest Wijngaarde Fraenk Martina Isenia Pietersz Rosaria Felida Silva Fernandes Lopes
    Tavares Monteiro Gomes Wang Zhang Chen Liu Huang Tran Pham Nguyen Le
""")

# Surname particles: part of a name when they stand between a title/first name and a surname.
PARTICLES = _words("""
    van de der den het ter ten te op in 't 's el al ben bin bou ait abou abu da dos du la le
""")

# Title and relation words after which the next capitalised word(s) are a person's name.
# Kept as regex alternations; longest first. "buurman Kees", "mevr. Yilmaz", "zoon Mehmet".
TITLES = (
    r"mevrouw|mevr\.?|mw\.?|mvr\.?|meneer|mnr\.?|dhr\.?|de\s+heer|heer|fam\.?|familie|juf(?:frouw)?"
    r"|meester|dr\.?|ir\.?|ing\.?|mr\.?|drs\.?|prof\.?|wijkagent|agent"
)
RELATIONS = (
    r"buurman|buurvrouw|buurjongen|buurmeisje|bovenbuurman|bovenbuurvrouw|benedenbuurman"
    r"|benedenbuurvrouw|onderbuurman|onderbuurvrouw|overbuurman|overbuurvrouw|zoon(?:tje)?"
    r"|dochter(?:tje)?|man|vrouw|echtgeno(?:o|t)e?|partner|vriend(?:in)?|huurder|bewoner|bewoonster"
    r"|melder|melder|genaamd|heet|heten|naam|broer|zus|moeder|vader|opa|oma|neef|nicht|kind"
    r"|collega|huismeester|wijkbeheerder|woonconsulent|jongen|meisje|jongens"
)

# Words in front of a street name that belong to it: "Burgemeester de Withstraat", "Van Goghstraat".
STREET_PREFIXES = _words("""
    burgemeester prins prinses koning koningin graaf gravin hertog sint st. oude nieuwe korte lange
    hoge lage kleine grote dr. doctor professor prof. generaal admiraal kapitein pastoor pater
    dominee jonkheer mr. van de der den 't ter ten
""")

STREET_SUFFIXES = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dreef", "hof", "pad", "steeg",
    "dijk", "markt", "park", "plantsoen", "erf", "baan", "wal", "oord", "veld", "burg", "kamp",
    "hoeve", "gaarde", "zoom", "rade", "ring", "hage", "donk", "akker", "dam", "haven", "brink",
    "dwarsstraat", "allee", "boulevard", "promenade", "kwartier", "passage", "galerij", "hoek",
    "wijk", "straatje", "laantje", "pleintje", "hofje", "weide", "driesch", "staete", "borg",
    "gang", "poort", "berg", "beek", "horst", "lei", "sluis", "ven", "werf",
)

# Identity terms: never part of a placeholder, even when capitalised after a relation word.
IDENTITY_TERMS = _words("""
    marokkaan marokkaanse marokkanen marokkaans turk turkse turken turks surinamer surinaamse
    surinamers surinaams antilliaan antilliaanse antillianen antilliaans hindoestaan
    hindoestaanse hindoestanen creools creoolse kaapverdiaan kaapverdiaanse molukker molukse
    pool poolse polen bulgaar bulgaarse bulgaren roemeen roemeense roemenen somaliër somalische
    somaliërs somali eritreeër eritrese eritreeërs syriër syrische syriërs afghaan afghaanse
    afghanen ghanees ghanese ghanezen nigeriaan nigeriaanse afrikaan afrikaanse afrikanen
    aziaat aziatische aziaten chinees chinese chinezen vietnamees vietnamese indonesiër
    indonesische indisch indische nederlander nederlandse nederlanders hollander hollandse
    arabier arabische arabieren koerd koerdische koerden iraniër iraanse irakees irakese
    europeaan europese oost-europeaan oost-europese roma sinti jood joodse joden israëliër
    moslim moslima moslims islamitisch islamitische islam christen christelijke christenen
    katholiek katholieke protestant protestantse hindoe hindoes boeddhist sikh atheïst
    homo homo's lesbienne lesbische biseksueel transgender trans queer lhbti lhbtiq
    zwart zwarte donker donkere bruin bruine wit witte blank blanke
    allah god koran bijbel moskee kerk synagoge ramadan suikerfeest offerfeest pasen kerst
    marokko turkije suriname curaçao curacao aruba polen bulgarije roemenië somalië eritrea
    syrië afghanistan ghana nigeria afrika azië china nederland holland israël palestina
    irak iran pakistan egypte joegoslavië bosnië servië kosovo albanië gaza libanon jemen soedan
    ethiopië congo angola kaapverdië india bangladesh vietnam europa amerika rusland oekraïne
    duitsland belgië frankrijk spanje portugal italië griekenland tunesië algerije libië
    tigrinya arabisch turks farsi dari pasjtoe berbers tamazight papiaments sranantongo sranan
    pools somalisch koerdisch amhaars hindi urdu engels nederlands
    keti koti eid divali diwali holi chanoeka pesach kerstmis iftar pride coming out day
    koningsdag nieuwjaar sinterklaas boeddha ganesha jezus
""")

# Word parts that mark a word as identity-related or as evidence: compounds and slurs that
# contain them are never replaced ("Hitlergroet", "Turkenhoeren", "Marokkanenbende").
IDENTITY_STEMS = (
    "hitler", "nazi", "hakenkruis", "turk", "marok", "mocro", "moslim", "islam", "jood", "joden",
    "homo", "lesb", "trans", "neger", "nikker", "zwart", "allah", "moskee", "kerk", "koran",
    "ramadan", "surina", "antill", "afrik", "arab", "zigeun", "allochto", "buitenland", "vluchtel",
    "asiel", "kanker", "pools", "polen", "bruin", "gehandicapt", "mongool", "heil",
)

# Capitalised words that look like names after a relation word but are not ("buurman Politie").
NOT_NAMES = _words("""
    de het een en of maar want dat die dit deze zijn haar hun zijn is was heeft had wordt
    politie gemeente wijkagent huismeester corporatie woningcorporatie meldpunt adv
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart april
    mei juni juli augustus september oktober november december nr nr. nummer tel tel. mail
    ik hij zij ze wij we jullie u men iemand niemand iedereen
""")

# Municipalities and provinces: coarse locations, kept in the text (the municipality is known from
# the note's metadata anyway). Not exhaustive: an unlisted town may be replaced, which is
# over-redaction, never a leak.
PLACES = _words("""
    amsterdam rotterdam utrecht eindhoven groningen tilburg almere breda nijmegen apeldoorn
    haarlem arnhem enschede amersfoort zaanstad haarlemmermeer zwolle zoetermeer leiden
    maastricht dordrecht ede alphen leeuwarden alkmaar emmen delft venlo deventer sittard helmond
    oss amstelveen hilversum heerlen nissewaard hengelo purmerend roosendaal schiedam lelystad
    leidschendam vlaardingen gouda hoorn almelo assen hoogeveen meppel coevorden zeist nieuwegein
    houten veenendaal woerden ijsselstein vianen stichtse vecht soest baarn bunnik wijk duurstede
    montfoort lopik oudewater renswoude rhenen veenendaal woudenberg vijfheerenlanden
    helder schagen heerhugowaard langedijk dijk waard hollands kroon texel koggenland medemblik
    enkhuizen stede broec drechterland opmeer bergen heiloo castricum uitgeest heemskerk beverwijk
    westerveld midden-drenthe aa hunze tynaarlo noordenveld borger-odoorn de wolden
    drenthe groningen friesland fryslân overijssel gelderland flevoland noord-holland
    zuid-holland zeeland noord-brabant brabant limburg randstad
    den haag 's-gravenhage 's-hertogenbosch den bosch
""")
