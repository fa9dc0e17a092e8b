"""What a question asks for, read offline and deterministically: the expected answer type, the constraints on
it and the focus it is about, in Dutch and English.

`analyse(question, language, idf)` splits a question into the things it asks (`Ask`: "Hoeveel …, en wie …?"
asks two), and gives each its expected answer type (money, count, percentage, date, duration, person,
organisation, place, list, reason, other), its constraints (`Constraint`: a year, a period, a place, a named
programme, instrument, agency or group) and its focus (`Concept`s: the words it is about). Every concept and
constraint carries the Dutch index terms (`assistant.lexical.terms`) that meet it, so an English question is
matched against the Dutch documents: through the glossary (`assistant.glossary`), and for words it does not
know, the corpus's own vocabulary (a word the lexical index holds, `idf` > 0, is kept as it is: Frontex,
Eurodac, screening). Nothing here knows a particular question: only question words, the words of types and
periods, a list of places, and the corpus's vocabulary.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from assistant.glossary import lookup
from assistant.lexical import fold, terms
from assistant.types import Language

AnswerType = Literal[
    "money", "count", "percentage", "date", "duration", "person", "organisation", "place", "list", "reason", "other"
]
ConstraintKind = Literal["year", "period", "place", "entity"]


def _split(words: str) -> list[str]:
    """The words of a word list written as one string (lists of words read better that way)."""
    return words.split()


# ------------------------------------------------------------------------------------------ places

# Dutch name | English name | other forms (adjectives, demonyms, spellings), Dutch and English. Folded on use.
_PLACES = """
Nederland|Netherlands|nederlandse,dutch,holland
België|Belgium|belgische,belgian
Luxemburg|Luxembourg|luxemburgse
Duitsland|Germany|duitse,german
Frankrijk|France|franse,french
Italië|Italy|italiaanse,italian
Spanje|Spain|spaanse,spanish
Portugal|Portugal|portugese,portuguese
Griekenland|Greece|griekse,greek
Cyprus|Cyprus|cypriotische,cypriot
Malta|Malta|maltese
Oostenrijk|Austria|oostenrijkse,austrian
Denemarken|Denmark|deense,danish
Zweden|Sweden|zweedse,swedish
Finland|Finland|finse,finnish
Ierland|Ireland|ierse,irish
Polen|Poland|poolse,polish
Tsjechië|Czechia|tsjechische,czech,czech republic
Slowakije|Slovakia|slowaakse,slovak
Hongarije|Hungary|hongaarse,hungarian
Slovenië|Slovenia|sloveense,slovenian
Kroatië|Croatia|kroatische,croatian
Roemenië|Romania|roemeense,romanian
Bulgarije|Bulgaria|bulgaarse,bulgarian
Estland|Estonia|estse,estonian
Letland|Latvia|letse,latvian
Litouwen|Lithuania|litouwse,lithuanian
Noorwegen|Norway|noorse,norwegian
Zwitserland|Switzerland|zwitserse,swiss
IJsland|Iceland|ijslandse,icelandic
Liechtenstein|Liechtenstein|
Verenigd Koninkrijk|United Kingdom|britse,british,vk,uk,britain,great britain,groot-brittannie
Verenigde Staten|United States|amerikaanse,american,vs,usa
Canada|Canada|canadese,canadian
Australië|Australia|australische,australian
Oekraïne|Ukraine|oekraiense,oekrainers,ukrainian,ukrainians
Belarus|Belarus|wit-rusland,belarussische,belarusian,belarussen
Rusland|Russia|russische federatie,russian federation,russische,russian
Moldavië|Moldova|moldavische,moldovan
Georgië|Georgia|georgische,georgian
Armenië|Armenia|armeense,armenian
Azerbeidzjan|Azerbaijan|
Turkije|Turkey|turkse,turkish,turkiye
Albanië|Albania|albanese,albanian
Servië|Serbia|servische,serbian
Kosovo|Kosovo|
Bosnië en Herzegovina|Bosnia and Herzegovina|bosnie,bosnia,bosnische,bosnian
Montenegro|Montenegro|
Noord-Macedonië|North Macedonia|macedonie,macedonia
Westelijke Balkan|Western Balkans|western balkan,balkan,balkanlanden,balkanroute
Marokko|Morocco|marokkaanse,moroccan,marokkanen
Algerije|Algeria|algerijnse,algerian
Tunesië|Tunisia|tunesische,tunisian
Libië|Libya|libische,libyan
Egypte|Egypt|egyptische,egyptian
Mauritanië|Mauritania|mauritaanse,mauritanian
Senegal|Senegal|senegalese
Gambia|Gambia|gambiaanse,gambian
Mali|Mali|malinese
Niger|Niger|nigerese
Nigeria|Nigeria|nigeriaanse,nigerian
Ghana|Ghana|ghanese,ghanaian
Ivoorkust|Ivory Coast|cote d'ivoire
Guinee|Guinea|guinese
Burkina Faso|Burkina Faso|
Tsjaad|Chad|
Soedan|Sudan|soedanese,sudanese
Zuid-Soedan|South Sudan|
Ethiopië|Ethiopia|ethiopische,ethiopian
Eritrea|Eritrea|eritrese,eritreeers,eritrean,eritreans
Somalië|Somalia|somalische,somali
Kenia|Kenya|keniaanse,kenyan
Oeganda|Uganda|
Rwanda|Rwanda|rwandese
Congo|Congo|congolese
Kaapverdië|Cape Verde|cabo verde
Sahel|Sahel|
Hoorn van Afrika|Horn of Africa|
Syrië|Syria|syrische,syrian,syriers,syrians
Irak|Iraq|iraakse,iraqi,irakezen
Iran|Iran|iraanse,iranian
Afghanistan|Afghanistan|afghaanse,afghan,afghanen,afghans
Pakistan|Pakistan|pakistaanse,pakistani
Bangladesh|Bangladesh|bengaalse,bangladeshi
India|India|indiase,indian
China|China|chinese
Vietnam|Vietnam|vietnamese
Jemen|Yemen|jemenitische,yemeni
Jordanië|Jordan|jordaanse,jordanian
Libanon|Lebanon|libanese,lebanese
Israël|Israel|israelische,israeli
Palestina|Palestine|palestijnse,palestinian,gaza
Sri Lanka|Sri Lanka|
Venezuela|Venezuela|venezolaanse,venezuelan
Colombia|Colombia|colombiaanse,colombian
Vanuatu|Vanuatu|
Afrika|Africa|afrikaanse,african
Azië|Asia|aziatische,asian
Latijns-Amerika|Latin America|
Midden-Oosten|Middle East|
Noord-Afrika|North Africa|noord-afrikaanse
Lampedusa|Lampedusa|
Lesbos|Lesbos|
Moria|Moria|
Canarische Eilanden|Canary Islands|canarische,canaries
Ceuta|Ceuta|
Melilla|Melilla|
Kabul|Kabul|
Warschau|Warsaw|
Rome|Rome|
Athene|Athens|
Calais|Calais|
"""


@dataclass(frozen=True)
class Place:
    """A place the documents may name: its Dutch and English names and other forms, folded."""

    nl: str
    en: str
    forms: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """The known places, each with every folded form that names it."""
    out = []
    for line in _PLACES.strip().splitlines():
        nl, en, other = line.split("|")
        forms = {fold(nl), fold(en), *(fold(o.strip()) for o in other.split(",") if o.strip())}
        out.append(Place(nl, en, tuple(sorted(forms, key=len, reverse=True))))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    forms = sorted({f for p in places() for f in p.forms}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(f) for f in forms) + r")(?![\w])")


@functools.lru_cache(maxsize=1)
def _place_by_form() -> dict[str, Place]:
    return {f: p for p in places() for f in p.forms}


# `fold` for the letters of European names, as one table: places are looked up in every sentence of every
# source, and `fold`'s per-character decomposition costs more than the rest of the check.
_FOLD = str.maketrans("àáâãäåçèéêëìíîïñòóôõöùúûüýÿšžčćřłńśźżőű", "aaaaaaceeeeiiiinooooouuuuyyszccrlnszzou")


def quick_fold(text: str) -> str:
    """`fold` for Latin letters with accents (what place names and Dutch words carry)."""
    return text.lower().translate(_FOLD)


def named_places_in(text: str) -> list[Place]:
    """The places `text` names as a place or its people ("Frankrijk", "Syriërs"), not as an adjective of
    something else ("het Franse voorzitterschap"): what answers "waar" or "welke landen"."""
    by_form = _place_by_form()
    found: dict[str, Place] = {}
    for m in _place_pattern().finditer(quick_fold(text)):
        form = m.group(1)
        place = by_form[form]
        if form not in (fold(place.nl), fold(place.en)) and form.endswith(("se", "sche")):
            continue  # a Dutch adjective: "franse", "belgische"
        found.setdefault(place.nl, place)
    return list(found.values())


def places_in(text: str) -> list[Place]:
    """The known places `text` names (any language, any form), in order of first mention."""
    by_form = _place_by_form()
    found: dict[str, Place] = {}
    for m in _place_pattern().finditer(quick_fold(text)):
        place = by_form[m.group(1)]
        found.setdefault(place.nl, place)
    return list(found.values())


# ------------------------------------------------------------------------------------------ types


@dataclass(frozen=True)
class Constraint:
    """A condition the answer must meet: the year or period it is for, the place, or the named programme,
    instrument, agency or group it concerns."""

    kind: ConstraintKind
    text: str  # as the question says it: "2023", "eerste helft van 2025", "Cyprus", "Frontex"
    terms: tuple[str, ...] = ()  # place: its folded forms, any of which meets it
    # entity: its words as groups of Dutch index terms; every group must be met (by any of its terms)
    groups: tuple[tuple[str, ...], ...] = ()
    start: int | None = None  # year and period: the first year (None: open)
    end: int | None = None  # ... and the last (None: open, "sinds 2015")
    half: int | None = None  # "eerste helft van 2025": 1; "second half": 2
    so_far: bool = False  # "tot dusver", "so far": up to the document's date
    inherited: bool = False  # a follow-up's: the earlier question's name; one of those is enough


@dataclass(frozen=True)
class Concept:
    """One thing a question is about, with the Dutch index terms that say it (alternatives)."""

    text: str  # the question's own word(s)
    terms: tuple[str, ...]
    weight: float = 1.0  # the largest idf of its terms in the lexical index (1.0 when unknown)
    verb: bool = False  # a verb: the documents often say it with another one, so it counts for less
    name: bool = False  # part of a named thing of the question (an entity constraint's words)
    guessed: bool = False  # an English word the glossary lacks, kept as it is: the documents may say it otherwise
    absent: bool = False  # no chunk of the index holds any of its terms (idf 0): the documents never say it


@dataclass(frozen=True)
class Ask:
    """One thing a question asks for."""

    text: str  # this part of the question
    expects: AnswerType
    constraints: tuple[Constraint, ...] = ()
    focus: tuple[Concept, ...] = ()
    subject: str = ""  # what the answer is a value of, in the question's words ("asielaanvragen")
    plural: bool = False  # "welke landen": several values
    also: tuple[AnswerType, ...] = ()  # other types of value that answer it too ("hoe sterk daalde": a count)

    @property
    def years(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind in ("year", "period"))


@dataclass(frozen=True)
class QuestionAnalysis:
    """Everything the evidence check needs of a question."""

    question: str
    language: Language
    asks: tuple[Ask, ...]

    @property
    def expects(self) -> AnswerType:
        """The answer type of the (first) thing asked."""
        return self.asks[0].expects if self.asks else "other"

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return tuple(dict.fromkeys(c for a in self.asks for c in a.constraints))

    @property
    def focus(self) -> tuple[Concept, ...]:
        return tuple(dict.fromkeys(c for a in self.asks for c in a.focus))

    @property
    def understood(self) -> bool:
        """Whether the documents' vocabulary knows what each thing asked is about: a focus word of its subject
        (of its focus, when it names none) with Dutch terms that are no guess and that some chunk holds.
        "Which planet is closest to the sun?" is not understood: no word of it is the documents'."""
        return bool(self.asks) and all(_knows_subject(a) for a in self.asks)


def _knows_subject(ask: Ask) -> bool:
    known = [c for c in ask.focus if c.terms and not c.guessed and not c.absent]
    subject = fold(ask.subject)
    return any(fold(c.text) in subject for c in known) if subject else bool(known)


# ------------------------------------------------------------------------------------------ question words

# Each rule: (answer type, pattern on the folded part). The first that matches decides; order matters
# ("hoeveel procent" before "hoeveel", "in welk jaar" before "in welk land").
_MONEY_WORDS = (
    r"geld|euro|eur|bedrag\w*|budget\w*|begroting\w*|financier\w*|middelen|kost\w*|uitgetrokken|uittrekken|trekt|"
    r"uitgegeven|uitgeven|besteed\w*|bijgedragen|bijdrage\w*|toegewezen|toegezegd|geinvesteerd|investering\w*|"
    r"money|funding|funds?|financ\w*|budget\w*|spend\w*|spent|cost\w*|allocat\w*|earmark\w*|contribut\w*|"
    r"invest\w*|set aside|paid|pay|salaris\w*|salary|salaries|loon|lonen|wage|wages|inkomensdrempel|"
    r"salarisdrempel"
)
_PERCENT_WORDS = (
    r"percentage|procent|aandeel|deel|welk deel|hoe groot (?:is|was) het deel|verhouding|proportie|share|"
    r"percent|proportion|fraction|rate|quota"
)
_TIME_UNITS = r"dagen|dag|weken|week|maanden|maand|jaren|jaar|uur|uren|days|day|weeks|months|years|hours"
_AUX = (
    r"is|was|zijn|waren|wordt|werd|worden|werden|heeft|hebben|had|hadden|zal|zullen|zou|zouden|kan|kunnen|moet|"
    r"moeten|does|do|did|has|have|had|are|were|will|would|can|could|should|must|may|might"
)
# "welke maatregelen", "which two measures": a plural noun after the question word, not an auxiliary.
_LIST = (
    rf"\b(?:welke|which|what)\s+(?!(?:{_AUX})\b)(?:\w+\s+){{0,2}}?(?!(?:{_AUX})\b)\w{{3,}}(?:en|s)\b(?!\s+(?:van|of)\b)"
    r"|\bnoem\b|\bwat zijn de\b|\bwhat are the\b|\bop welke \w+ \w+en\b"
)
_RULES: tuple[tuple[AnswerType, str], ...] = (
    ("percentage", r"\b(?:welk|wat is het|wat was het|hoe hoog (?:is|was) het) (?:percentage|aandeel|deel)\b"),
    ("percentage", r"\b(?:hoeveel|met hoeveel|om hoeveel) (?:procent|percent)\b"),
    ("percentage", r"\bhoe groot (?:is|was|werd|wordt) (?:het|de) (?:aandeel|deel|percentage|fractie)\b"),
    ("percentage", r"\b(?:wat|welk) (?:is|was|zijn|waren) (?:het|de) (?:\w+ ){0,3}\w*(?:percentage|aandeel)\b"),
    (
        "percentage",
        r"\b(?:what|which) (?:is|was|were|are) (?:the|its|their) (?:[\w']+ ){0,3}"
        r"(?:rate|share|percentage|proportion)\b",
    ),
    ("count", r"\bhoe (?:groot|omvangrijk)\b|\bhow (?:big|large)\b"),
    (
        "percentage",
        r"\b(?:hoe sterk|hoe fors|hoe hard|hoe snel|how sharply|how steeply|how strongly|how fast|"
        r"how far|by how much)\b",
    ),
    ("percentage", r"\b(?:what|which) (?:percentage|share|proportion|fraction|part)\b|\bhow high (?:is|was)\b"),
    ("percentage", r"\b(?:by )?what percent(?:age)?\b|\bhow many percent\b|\b\w+ rate\b(?=.*\b(?:what|how)\b)"),
    ("duration", rf"\b(?:hoe lang|how long|binnen hoeveel (?:{_TIME_UNITS})|hoeveel (?:{_TIME_UNITS})\b)"),
    ("duration", rf"\b(?:within|in) how many (?:{_TIME_UNITS})\b|\bhow many (?:{_TIME_UNITS})\b"),
    ("date", r"\b(?:in |op |tegen |sinds |vanaf |tot )?(?:welk jaar|welke datum|welke dag|welke maand)\b"),
    ("date", r"\b(?:sinds|vanaf|tegen|uiterlijk|tot) wanneer\b|\bwanneer\b|\bhoe laat\b"),
    ("date", r"\b(?:what|which) (?:year|date|day|month)\b|\b(?:since|by|until|from) when\b|\bwhen\b"),
    ("person", r"\bwie\b|\bwiens\b|\bwhom?\b|\bwhose\b"),
    (
        "person",
        r"\b(?:welke|which) (?:commissaris|commissioner|minister|persoon|person|voorzitter|president|"
        r"directeur|director|rapporteur|coordinator|coordinator|gezant|envoy|official|functionaris)\b",
    ),
    (
        "organisation",
        r"\b(?:welke|welk|which|what) (?:organisatie\w*|organi[sz]ation\w*|instantie\w*|agentschap\w*|agency|"
        r"bedrijf\w*|onderneming\w*|aannemer\w*|contractant\w*|company|companies|firms?|contractors?|"
        r"consultan\w*|"
        r"agencies|instelling\w*|institution\w*|body|bodies|ngo\w*|autoriteit\w*|authority|authorities)\b",
    ),
    (
        "place",
        r"\b(?:in |naar |met |uit |van |aan |to |with |from |of )?(?:welke|welk|which|what) (?:\w+ )?"
        r"(?:land|landen|"
        r"derde landen|stad|steden|plaats|plaatsen|lidstaat|lidstaten|regio|regio's|country|countries|city|"
        r"cities|place|places|member states?|regions?|third countries|partner countries|locatie|location)\b",
    ),
    ("place", r"\bwaar\b(?! (?:gaat|gaan|staat|staan) het om)|\bwhere\b"),
    (
        "reason",
        r"\bwaarom\b|\bom welke reden\b|\bwat is de reden\b|\bwhy\b|\bfor what reason\b|\bwhat is the reason\b",
    ),
    ("money", rf"\b(?:hoeveel|how much|what|which|welk|wat is het|what is the)\b[^?]*\b(?:{_MONEY_WORDS})\b"),
    ("money", r"\bhoeveel\s+(?:heeft|hebben|stelt|stellen|trekt|trekken|bedroeg|bedraagt|kost|kostte)\b"),
    ("percentage", rf"\b(?:hoeveel|how much|by how much|om hoeveel|met hoeveel)\b[^?]*\b(?:{_PERCENT_WORDS})\b"),
    ("count", r"\b(?:hoeveel|hoe veel|how many|how much|het aantal|number of|by how much)\b|\baantal\b"),
    ("list", _LIST),
    ("reason", r"\bhoe\b|\bhow\b|\bop welke manier\b|\bin what way\b"),
)
_TYPE_RULES = tuple((kind, re.compile(pattern)) for kind, pattern in _RULES)

# A year that names a document, not a period of the answer ("het verslag van 2022", "the 2022 report").
_DOCUMENT_NOUNS = (
    r"verslag|rapport|mededeling|strategie|factsheet|document|pact|report|communication|strategy|paper|"
    r"voorstel|proposal"
)
_DOCUMENT_YEAR = re.compile(
    rf"(?:\b(?:{_DOCUMENT_NOUNS})\w*\s+(?:van|uit|of|from)\s+(?:\w+\s+)?)((?:19|20)\d\d)\b"
    rf"|\b((?:19|20)\d\d)\s+(?:(?!(?:in|en|and|of|van)\b)[\w-]+\s+){{0,3}}(?:{_DOCUMENT_NOUNS})\b"
)
_YEAR = re.compile(r"(?<![\d/])((?:19[5-9]|20[0-9])\d)(?![\d/])")
_RANGE = re.compile(
    r"\b(?:tussen|van|vanaf|between|from)\s+(?:\w+\s+){0,2}?((?:19|20)\d\d)\s+(?:en|tot|t/m|and|to|until)\s+"
    r"(?:\w+\s+){0,2}?((?:19|20)\d\d)\b|(?<!\d)((?:19|20)\d\d)\s*[-–/]\s*((?:19|20)\d\d)(?!\d)"
)
_SINCE = re.compile(r"\b(?:sinds|sedert|vanaf|since|after|na)\s+(?:\w+\s+)?((?:19|20)\d\d)\b")
_UNTIL = re.compile(r"\b(?:voor|tot|until|before|by)\s+(?:eind\s+|end\s+(?:of\s+)?)?((?:19|20)\d\d)\b")
_HALF = re.compile(r"\b(?:(eerste|tweede)\s+helft\s+van|(first|second)\s+half\s+of|h([12]))\s+((?:19|20)\d\d)\b")
_SO_FAR = re.compile(r"\b(?:tot dusver\w*|tot nu toe|tot op heden|inmiddels|so far|to date|until now|thus far)\b")
# Where one question asks a second thing: ", en hoeveel …", "and who …", "; …?".
_SPLIT = re.compile(
    r"(?:,\s*|\s+)(?:en|and|maar|but)\s+(?=(?:(?:in|met|om|op|naar|van|aan|uit|voor|bij|over|onder|sinds|tegen|"
    r"vanaf|tot|by|in|on|at|from|to|of|since|for|with|under|into|within|until)\s+)?"
    r"(?:hoeveel|hoe|wie|wiens|wat|welk|welke|wanneer|waar|waarom|how|what|who|whom|whose|when|where|which|why)\b)"
    r"|\?\s+(?=\S)"
)

# Words that say nothing about the focus: question words, auxiliaries, the documents' own frame.
_FRAME = frozenset(
    fold(w)
    for w in _split(
        "hoeveel hoe veel wie wiens wat welk welke wanneer waar waarom aantal noem zijn is was waren worden "
        "wordt werd werden heeft hebben had hadden zal zullen zou zouden kan kunnen moet moeten er daarvan "
        "hiervan hen hun zij ze het de een van voor in op met om naar uit aan bij tot door over volgens "
        "document documenten tekst verslag rapport mededeling commissie eu europese unie europa lidstaten "
        "lidstaat jaar jaren datum procent percentage bedrag geld euro eur welk deel aandeel ging gaat gaan "
        "elk ieder jaarlijks per precies ongeveer how many much what which who whom whose when where why "
        "does did do is are was were been be has have had will would should could can the a an of for in on "
        "at to from by with about according documents document text report communication commission eu "
        "european union europe member states state year years date percent percentage amount money euro "
        "euros share number part each per exactly roughly approximately actually mentioned mention say says "
        "said state stated give given name named list lists called noemen genoemd vermeld vermeldt staat "
        "stond gezegd zegt totaal total vanaf waarop waarmee waardoor waarin waarvoor waaraan welks achter "
        "binnen tussen tijdens daarbij daarin daarvoor hierbij dan toen nog al alle all any some other "
        "others its their there this that these those not yet only also out up into then than such so very "
        "more most many much new nieuw nieuwe kunnen gaan zouden willen wil wilde about above after before "
        "under over again first twee drie vier vijf zes zeven acht negen tien two three four five six seven "
        "eight nine ten belangrijkste main af mee toe terug heen nu thans daadwerkelijk eigenlijk precies "
        "lang mag mogen"
    )
)
_QUESTION_HEAD = re.compile(
    r"(?i)^\s*(?:(?:in|met|om|op|naar|van|aan|sinds|tegen|vanaf|tot|by|on|at|from|to|of|since|for|under)\s+)?"
    r"(?:hoeveel|hoe veel|hoe lang|hoe|wie|wiens|wat|welk|welke|wanneer|waar|waarom|how many|how much|how long|how|"
    r"what|who|whom|whose|when|where|which|why)\b\s*",
)
_NP_STOP = frozenset(
    _split(
        "zijn is was waren worden wordt werd werden heeft hebben had hadden zal zullen zou zouden kan kunnen "
        "moet moeten did does do are were has have had will would can could should er trekt ging gaat "
        "ontving ontvingen keerden bedroeg bedraagt kreeg kregen omvat may might must shall mag mogen goes go went"
    )
)


# ------------------------------------------------------------------------------------------ analysis

_MONTHS = (
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|january|february|"
    r"march|may|june|july|august|october"
)
_SEASONS = r"voorjaar|najaar|zomer|winter|spring|summer|autumn|begin|eind|midden|medio|early|late|end|beginning|middle"
_TIME_SPAN = re.compile(
    rf"(?i)\b(?:(?:in|voor|tot|sinds|vanaf|tussen|van|en|between|from|and|to|until|since|by|of|up to|before|after)\s+)?"
    rf"(?:(?:{_SEASONS}|{_MONTHS})\s+(?:(?:of|van)\s+)?)?(?:19|20)\d\d(?:\s*[-–/]\s*(?:19|20)\d\d)?\b"
    rf"|\b(?:{_MONTHS})\b"
    r"|\b(?:tot dusver\w*|tot nu toe|tot op heden|so far|to date|until now|thus far|eerste helft|tweede helft|"
    r"first half|second half)\b"
)
# Verbs of a question are said with other verbs in the documents ("ontving" for "ingediend"): they count for
# less. Dutch participles (ge-…-d/t/en, also after a separable prefix), English -ed/-ing forms, and the
# common irregular ones.
_VERB_NL = re.compile(
    r"^(?:aan|af|bij|door|in|mee|na|om|onder|op|over|terug|toe|uit|vast|voor|weg)?ge(?!bied|vaar|val|bruik|volg|zin|"
    r"zondheid|meente|heel|biedt|lijk|schied|sprek|tal|wicht|varen)\w{3,}(?:d|t|en)$"
)
_VERBS = frozenset(
    _split(
        "trekt trekken ging gaat gaan kwam kwamen komt komen ontving ontvingen kreeg kregen krijgt stelt "
        "stellen bedroeg bedraagt omvat omvatte liep liepen maakt maken verbleef verbleven sloot sloten "
        "keert keerden keerde daalde daalden steeg stegen beginnen begon begonnen lukt lukte richt richten "
        "rust rusten helpen helpt verhield verhoudt veranderen verandert telt tellen introduceert verwacht "
        "verwachten voorleggen leggen aanbieden biedt start started record recorded host hosts run runs ran "
        "rise rose come comes came take takes took issue issued receive received spend spends spent agree "
        "agreed sell sold hold held set launch launched become became get got give gave make made want wants "
        "decide decided submit go went fall fell drop dropped intend plan planned propose proposed say says "
        "said do done begin began"
    )
)
# English names of institutions that the Dutch documents write otherwise.
_NAMES_EN_NL = {
    "un": ("vn", "verenigd naties"),
    "united nations": ("vn", "verenigd naties"),
    "unhcr": ("unhcr", "hoge commissaris"),
    "iom": ("iom", "internationale organisatie migratie"),
    "euaa": ("euaa", "asielagentschap"),
    "easo": ("easo", "asielondersteuningsbureau"),
    "ees": ("inreis-uitreissysteem", "eea"),
}
_DOCUMENT_CHECK = Callable[[str], bool]
ABSENT_WEIGHT = 6.0  # the weight of a focus word no chunk of the index holds (idf 0); set on the dev split


def analyse(
    question: str,
    language: Language,
    idf: Mapping[str, float] | None = None,
    is_document: _DOCUMENT_CHECK | None = None,
) -> QuestionAnalysis:
    """The things `question` asks, each with its answer type, constraints and focus.

    `idf`: the lexical index's weight of index terms (`Retrieval.term_weights`); a term missing from it
    counts 1.0, and an English word the glossary does not know is kept only when the index holds it.
    `is_document`: whether a name is a document's (`Retriever.mentioned_documents`): "volgens het pact" names
    a document, not a constraint on the answer. A follow-up made standalone by rule ("En voor kinderen? —
    <previous question>") asks its own part, with the previous question's type, constraints and focus where
    its own part gives none."""
    idf = idf or {}
    head, _, previous = question.partition(" — ")
    asks: list[Ask] = []
    for text in _parts(head):
        ask = _ask(text, language, idf, is_document)
        if asks:
            ask = _inherit(ask, asks[0])
        asks.append(ask)
    if previous and asks:
        before = _ask(_parts(previous)[0], language, idf, is_document)
        asks = [_inherit(ask, before, follow_up=True) for ask in asks]
    return QuestionAnalysis(question, language, tuple(asks))


def _parts(text: str) -> list[str]:
    parts = [p.strip(" ,;") for p in _SPLIT.split(text) if p and p.strip(" ,;?")]
    return parts or [text]


def _ask(text: str, language: Language, idf: Mapping[str, float], is_document: _DOCUMENT_CHECK | None) -> Ask:
    folded = fold(text)
    expects = _expects(folded)
    also: tuple[AnswerType, ...] = ()
    if expects == "percentage" and re.search(r"\b(?:hoe|how|by how much)\b", folded):
        also += ("count",)  # "hoe sterk daalde …": a fall from one figure to another answers it too
    if expects == "percentage" and re.search(rf"\b(?:{_MONEY_WORDS})\b", folded):
        also += ("money",)  # "by how much would the budget rise": a share, or an amount
    if expects == "count" and _CHANGE.search(folded):
        also += ("percentage",)  # "hoe groot was de daling": a fall in per cent answers it too
    plural = _plural(folded, expects)
    if expects == "list" and re.search(
        r"\b(?:welke|which|what) (?:\w+ )?(?:landen|countries|lidstaten|member states|steden|cities)\b", folded
    ):
        expects = "place"
    places_here = _place_constraints(text)
    entities = tuple(c for c in _entity_constraints(text, language, idf) if not (is_document and is_document(c.text)))
    place_words = {f for c in places_here for f in c.terms}
    document_words = (
        {t for w in re.findall(r"[\w-]+", text) if is_document(w) for t in terms(w)} if is_document else set()
    )
    focus = tuple(
        c
        for c in _concepts(_TIME_SPAN.sub(" ", text), language, idf)
        if fold(c.text) not in place_words and not set(c.terms) <= document_words
    )
    finite = _finite_verb(text) if language == "nl" else ""
    if finite:
        focus = tuple(replace(c, verb=True) if fold(c.text) == finite else c for c in focus)
    named = {t for c in entities for g in c.groups for t in g}
    focus = tuple(replace(c, name=True) if set(c.terms) & named else c for c in focus)
    if expects == "place":
        focus = _without_type_nouns(focus)
    constraints = _time_constraints(folded) + places_here + entities
    return Ask(text, expects, constraints, focus, _subject(text), plural, also)


# The nouns a place question asks its answer by ("welke landen", "which cities"): they name the answer's type,
# which the answering sentence gives by naming the places ("Syrië, Afghanistan en Venezuela"), not the focus.
_PLACE_NOUNS = frozenset(
    _split(
        "land landen stad steden plaats plaatsen regio regio's locatie locaties country countries city cities "
        "place places region regions location locations"
    )
)


def _without_type_nouns(focus: tuple[Concept, ...]) -> tuple[Concept, ...]:
    """The focus of a place question without the noun that says it asks for places, when something is left."""
    kept = tuple(c for c in focus if fold(c.text) not in _PLACE_NOUNS)
    return kept if any(not c.verb for c in kept) else focus


_QUESTION_WORD_NL = re.compile(
    r"^\W*(?:(?:in|met|om|op|naar|van|aan|uit|sinds|tegen|vanaf|tot|voor|bij|over)\s+)?"
    r"(hoeveel|welke|welk|wat voor|wie|wat|wanneer|waar|waarom|hoe lang|hoe|waarmee|waarop|waardoor)\s+(.*)$"
)


def _finite_verb(text: str) -> str:
    """The finite verb of a Dutch question, which comes second ("Hoeveel visums *gaven* de Schengenlanden
    af?"): after the question word, and after the noun phrase that "hoeveel" or "welke" opens."""
    m = _QUESTION_WORD_NL.match(fold(text))
    if not m:
        return ""
    words = re.findall(r"[\w'-]+", m.group(2))
    i = 0
    if m.group(1) in ("hoeveel", "welke", "welk", "wat voor"):
        while i < len(words) - 1 and re.search(r"(?:e|se)$", words[i]) and words[i] not in _NP_STOP:
            i += 1  # adjectives: "Europese", "niet-begeleide"
        i += 1  # the noun
    if i < len(words) and words[i] not in ("van", "voor", "uit", "met", "in", "op", "die", "dat"):
        return words[i]
    return ""


def _expects(folded: str) -> AnswerType:
    """The type of the earliest question word's rule: "Why … bosses who hire …" asks why, not who."""
    best: tuple[int, int, AnswerType] | None = None
    for order, (kind, pattern) in enumerate(_TYPE_RULES):
        m = pattern.search(folded)
        if m and (best is None or (m.start(), order) < best[:2]):
            best = (m.start(), order, kind)
    return best[2] if best else "other"


def _inherit(ask: Ask, first: Ask, *, follow_up: bool = False) -> Ask:
    """A later part ("en hoeveel van hen …") keeps the first part's period when it names none, and its focus
    when its own is thin; a follow-up also keeps the earlier question's type, places and names where it
    gives none."""
    kinds = {c.kind for c in ask.constraints}
    constraints = ask.constraints
    if not ask.years and not _DOCUMENT_YEAR.search(fold(ask.text)):
        constraints += _shifted(first.years, ask.text)
    if follow_up:
        constraints += tuple(
            replace(c, inherited=True)
            for c in first.constraints
            if c.kind in ("place", "entity") and c.kind not in kinds
        )
    focus = ask.focus
    if follow_up or sum(not c.verb for c in focus) < 2:
        taken = first.focus
        if not follow_up and _POINTS_BACK.search(fold(ask.text)) and any(c.name for c in first.focus):
            taken = tuple(c for c in first.focus if c.name)  # "…, en hoe lang loopt het?": "het" is the named thing
        focus += tuple(c for c in taken if c not in focus and not (follow_up and "entity" in kinds and c.name))
    expects, also, plural = ask.expects, ask.also, ask.plural
    if expects == "percentage" and first.expects == "money" and "money" not in also:
        also += ("money",)  # "…, en welk deel daarvan ging naar Afrika?": a share of an amount, or an amount
    own_noun = re.match(_OWN_QUESTION_NOUN, fold(ask.text))  # "Welke steun …": asks its own kind of thing
    if (
        follow_up
        and expects in ("other", "reason", "list")
        and first.expects not in ("other", "reason", "list")
        and not own_noun
    ):
        expects, also, plural = first.expects, first.also, first.plural
    return Ask(ask.text, expects, constraints, focus, ask.subject or first.subject, plural, also)


# A pronoun by which a later part of a question points back to what the first part named.
_POINTS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|hij|zij|ervan|daarvan|hiervan)\b|\b(?:het|ze|dit|dat|deze|die|this|that|these|those)\W*$"
)

# Nouns of a change: the size of one is a count or a percentage.
_CHANGE = re.compile(
    r"\b(?:daling|stijging|toename|afname|groei|vermindering|verhoging|increase|decrease|fall|rise|drop|growth|"
    r"decline|reduction)\b"
)
# "… in 2025, en hoe groot was de daling het jaar daarvoor?": the year before (or after) the one asked first.
_YEAR_BEFORE = re.compile(
    r"\b(?:het jaar daarvoor|het jaar ervoor|een jaar eerder|het voorgaande jaar|the year before|"
    r"the previous year|a year earlier|the preceding year|the prior year)\b"
)
_YEAR_AFTER = re.compile(
    r"\b(?:het jaar daarna|het jaar erna|een jaar later|het volgende jaar|the year after|the following year|"
    r"a year later|the next year)\b"
)


# A follow-up that names what it asks for ("Welke steun …?"), not one that only points back ("What about …?").
_OWN_QUESTION_NOUN = r"^\W*(?:welke|welk|which|what)\s+(?!(?:about|over|met|voor|of|van|is|was|are|were|zijn)\b)\w{3,}"


def _shifted(years: tuple[Constraint, ...], text: str) -> tuple[Constraint, ...]:
    """The earlier part's years, moved one back or on when this part asks for the year before or after."""
    folded = fold(text)
    step = -1 if _YEAR_BEFORE.search(folded) else 1 if _YEAR_AFTER.search(folded) else 0
    if not step:
        return years
    out = []
    for c in years:
        if c.kind == "year" and c.start is not None and c.start == c.end:
            year = c.start + step
            out.append(Constraint("year", str(year), start=year, end=year))
    return tuple(out)


def _plural(folded: str, expects: AnswerType) -> bool:
    several = re.search(_LIST, folded) or re.search(r"\bwie (?:zijn|waren)\b", folded)
    return bool(several) and expects in ("place", "organisation", "person", "list")


def _time_constraints(folded: str) -> tuple[Constraint, ...]:
    out: list[Constraint] = []
    used = {y for m in _DOCUMENT_YEAR.finditer(folded) for y in m.groups() if y}  # years naming a document
    so_far = bool(_SO_FAR.search(folded))
    for m in _HALF.finditer(folded):
        year = m.group(4)
        half = 1 if (m.group(1) or m.group(2) or "") in ("eerste", "first") or m.group(3) == "1" else 2
        out.append(Constraint("year", m.group(0), start=int(year), end=int(year), half=half))
        used.add(year)
    for m in _RANGE.finditer(folded):
        low, high = sorted(int(y) for y in m.groups() if y)
        if {str(low), str(high)} <= used:
            continue
        out.append(Constraint("period", m.group(0).strip(), start=low, end=high))
        used |= {str(low), str(high)}
    for m in _SINCE.finditer(folded):
        if m.group(1) not in used:
            out.append(Constraint("period", m.group(0).strip(), start=int(m.group(1)), end=None, so_far=so_far))
            used.add(m.group(1))
    for m in _YEAR.finditer(folded):
        year = m.group(1)
        if year in used:
            continue
        used.add(year)
        before = re.search(r"\b(?:voor|tot|until|before|by)\s+(?:eind\s+|end\s+(?:of\s+)?)?$", folded[: m.start()])
        # "voor 2026" is mostly "for 2026" ("de solidariteitspool voor 2026"); "tot/before/by 2026" is a deadline
        if before and not before.group(0).startswith("voor"):
            out.append(Constraint("period", before.group(0).strip() + " " + year, start=None, end=int(year)))
        else:
            out.append(Constraint("year", year, start=int(year), end=int(year)))
    if so_far and not out:
        out.append(Constraint("period", _SO_FAR.search(folded).group(0), so_far=True))  # type: ignore[union-attr]
    return tuple(out)


def _place_constraints(text: str) -> tuple[Constraint, ...]:
    return tuple(Constraint("place", p.nl, terms=p.forms) for p in places_in(text))


# A named thing in a question: capitalised words or acronyms not at the start (Frontex, EUNAVFOR MED IRINI,
# eu-LISA, Talent Pool, Overeenkomst van Samoa), or Dutch compounds headed by an instrument noun
# (noodtransitmechanisme, talentpartnerschappen).
_NAME = re.compile(
    r"(?<![\w-])((?:[a-z]{1,3}-)?[A-Z][\w/-]*(?:['’]s)?(?:\s+(?:(?:van|voor|of|for|de|the|and|en)\s+)?"
    r"(?:[a-z]{1,3}-)?[A-Z][\w/-]*(?:['’]s)?)*)"
)
_INSTRUMENT_HEADS = (
    r"mechanisme|pool|partnerschap|partnerschappen|programma|fonds|instrument|verordening|richtlijn|regeling|"
    r"overeenkomst|overeenkomsten|coordinator|agentschap|systeem|platform|faciliteit|strategie|proces|pact|"
    r"bevel|bevelen|kaart|netwerk|centrum|centra|missie|missies|operatie|bureau|alliantie|dialoog|"
    r"functionaris|functionarissen|gezant|autoriteit"
)
_INSTRUMENT = re.compile(rf"(?<![\w-])([a-z][\w-]{{2,}}(?:{_INSTRUMENT_HEADS}))(?![\w-])")
_NOT_NAMED = frozenset(
    fold(w)
    for w in _split(
        "EU Europese Europees Europa Unie Commissie Commission European Union Europe Member States Raad "
        "Council Parlement Parliament Hoeveel Wat Wie Welke Welk Wanneer Waar Waarom Hoe How What Who Which "
        "When Where Why In Met Om Op Naar Van Volgens According Since Sinds By On Under Onder The De Het Een "
        "Is Are Did Does Was Were Has Have I MFF MFK En And Of For Voor Brussels Brussel"
    )
) | frozenset(_MONTHS.split("|"))


_MONTH_WORDS = frozenset(_MONTHS.split("|")) | frozenset(["mid", "medio", "eind", "begin", "end", "early", "late"])
# A name right after these says who reports the answer, not what it is about.
_ATTRIBUTION = re.compile(
    r"(?i)\b(?:according to|volgens|as reported by|cited by|zoals gemeld door)\s+(?:the\s+|de\s+|het\s+)?$"
)


def _entity_constraints(text: str, language: Language, idf: Mapping[str, float]) -> tuple[Constraint, ...]:
    out: dict[str, Constraint] = {}
    place_forms = {f for p in places_in(text) for f in p.forms}
    # Places are constraints of their own: their words are no name ("Canarische Eilanden").
    text = _without_places(text)
    first_word = re.match(r"\W*[\w'’-]+", text)
    start = first_word.end() if first_word else 0

    def add(name: str) -> None:
        known = _NAMES_EN_NL.get(fold(name)) if language == "en" else None
        if known:
            groups: tuple[tuple[str, ...], ...] = (tuple(t for k in known for t in terms(k)[:1]),)
        else:
            groups = tuple(c.terms for c in _concepts(name, language, idf, keep_unknown=True) if c.terms)
        taken = {t for c in out.values() for g in c.groups for t in g}
        if groups and not all(set(g) <= taken for g in groups):
            out.setdefault(fold(name), Constraint("entity", name, groups=groups))

    def not_named(word: str) -> bool:
        folded = fold(word)
        return folded in _NOT_NAMED or folded in place_forms or any(p in _MONTH_WORDS for p in folded.split("-"))

    for m in _NAME.finditer(text, start):
        if _ATTRIBUTION.search(text[: m.start()]):
            continue  # "according to UN estimates": who says it, not what the answer is about
        words = [re.sub(r"['’]s$", "", w) for w in m.group(1).split()]
        while words and not_named(words[0]):
            words.pop(0)
        while words and not_named(words[-1]):
            words.pop()
        if words and not _YEAR.fullmatch(words[0]):
            add(" ".join(words))
    for m in _INSTRUMENT.finditer(fold(text)):
        word = m.group(1)
        if word not in _FRAME and not any(word in k for k in out):
            add(word)
    return tuple(out.values())


def _without_places(text: str) -> str:
    """`text` with the places it names blanked out (same length, so positions stay)."""
    folded = fold(text)
    if len(folded) != len(text):
        return text
    out = list(text)
    for m in _place_pattern().finditer(folded):
        out[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(out)


def _concepts(
    text: str, language: Language, idf: Mapping[str, float], *, keep_unknown: bool = False
) -> tuple[Concept, ...]:
    """The focus words of `text`, each with its Dutch index terms and weight. English goes through the
    glossary, longest phrase first; an English word it does not know is kept, for little, when the index
    holds it (English titles in footnotes), and a capitalised one always (a name the documents lack must
    stay unmet); with `keep_unknown` every word is kept."""
    words = [re.sub(r"['’]s$", "", w) for w in re.findall(r"[^\W_]+(?:[-'’/][^\W_]+)*", text)]
    out: list[Concept] = []
    i = 0
    while i < len(words):
        word = words[i]
        if language == "en":
            matched = False
            for n in range(min(4, len(words) - i), 0, -1):
                window = words[i : i + n]
                dutch = _glossary_entry(window)
                if dutch:
                    if not all(fold(w) in _FRAME for w in window):
                        found = tuple(t for d in dutch for t in terms(d))
                        out.append(_concept(" ".join(window), found, idf, _is_verb(window[-1], language)))
                    i += n
                    matched = True
                    break
            if matched:
                continue
        i += 1
        if fold(word) in _FRAME or re.search(r"\d", word):
            continue
        stems = tuple(terms(word))
        if not stems:
            continue
        if language == "en" and not keep_unknown:
            known = _NAMES_EN_NL.get(fold(word))
            if known:
                out.append(_concept(word, tuple(t for k in known for t in terms(k)[:1]), idf))
            elif word[:1].isupper():
                out.append(_concept(word, stems, idf))
            elif all(idf.get(t, 0.0) > 0 for t in stems):
                out.append(replace(_concept(word, stems, idf, _is_verb(word, language)), weight=0.5, guessed=True))
            continue
        out.append(_concept(word, stems, idf, _is_verb(word, language)))
    merged: dict[tuple[str, ...], Concept] = {}
    for c in out:
        if c.terms and c.terms not in merged:
            merged[c.terms] = c
    return tuple(merged.values())


def _is_verb(word: str, language: Language) -> bool:
    w = fold(word)
    if w in _VERBS:
        return True
    if language == "nl":
        return bool(_VERB_NL.match(w))
    return w.endswith(("ed", "ing")) and len(w) > 5


def _glossary_entry(window: list[str]) -> tuple[str, ...]:
    """The glossary's Dutch for `window` when the whole window is one entry."""
    return lookup(" ".join(window))


def _concept(text: str, found: tuple[str, ...], idf: Mapping[str, float], verb: bool = False) -> Concept:
    found = tuple(dict.fromkeys(t for t in found if not re.search(r"\d", t)))
    weights = [idf[t] for t in found if t in idf]
    if weights and max(weights) == 0.0:
        # No chunk holds it: as rare as a word gets. Nothing can meet it, and what it asks is not there.
        return Concept(text, found, ABSENT_WEIGHT, verb, absent=True)
    return Concept(text, found, max(weights) if weights else 1.0, verb)


# The verb that closes a question whose auxiliary came first ("… mag de screening duren?", "… may it take?").
_INFINITIVES = frozenset(_split("duren duurt take last kosten cost zijn be worden become gebeuren happen"))
_UNIT_WORDS = frozenset(["geld", "money", "euro", "euros", "eur", "procent", "percent", "funding", "budget"])


def _subject(text: str) -> str:
    """What the answer is a value of, in the question's own words: the noun phrase after the question word
    ("Hoeveel asielaanvragen ontving …" → "asielaanvragen"); when that is only a unit ("Hoeveel euro kost
    …", "How much money …"), what follows the verb ("de screening van een migrant"); empty when nothing is
    left."""
    rest = _QUESTION_HEAD.sub("", text.strip().rstrip("?"), count=1)
    words = [w.strip(",;:") for w in rest.split()]
    finite = _finite_verb(text)
    phrase: list[str] = []
    end = len(words)  # where the noun phrase stops: its verb
    for i, word in enumerate(words):
        bare = fold(word)
        if bare in _NP_STOP or bare == finite or (phrase and bare in ("en", "and")):
            end = i
            break
        phrase.append(word)
        if len(phrase) >= 6:
            end = i
            break
    if not phrase:  # the verb comes first ("How long may the screening … take?"): its subject follows
        phrase = [w for w in words[end + 1 : end + 7] if fold(w) not in _NP_STOP]
        while phrase and fold(phrase[-1]) in _INFINITIVES:
            phrase.pop()
    elif all(fold(w) in _UNIT_WORDS or fold(w) in _FRAME for w in phrase):
        after = [w for w in words[end + 1 :] if fold(w) not in _NP_STOP]
        cut = next((j for j, w in enumerate(after[:6]) if fold(w) in ("voor", "aan", "for", "on", "to", "into")), -1)
        phrase = after[cut + 1 : cut + 7]
    while phrase and fold(phrase[-1]) in _FRAME:
        phrase.pop()
    while phrase and (fold(phrase[0]) in _UNIT_WORDS or fold(phrase[0]) in _SUBJECT_EDGE | _SHARE_WORDS):
        phrase.pop(0)  # "of the Member States' …", "deel van de mensen …": the thing, not its share or article
    while phrase and fold(phrase[-1]) in _SUBJECT_EDGE:
        phrase.pop()  # "… mensen die": a relative clause's start
    return " ".join(phrase)


# Words that neither start nor end the name of what an answer is a value of.
_SUBJECT_EDGE = frozenset(
    _split(
        "de het een der van in op bij onder uit met aan over die dat wie welke the a an of in on at under from "
        "with who that which whose whom"
    )
)
_SHARE_WORDS = frozenset(_split("deel aandeel share part proportion fraction"))
