"""Which words may be a caller's name: a list of common given names, and words that never are.

Speech-to-text capitalises the first word of a reply and interjections ("Oh", "Yes"), so a
capital letter alone does not make a name. A name is taken from a bare reply to "what name
should I put it under?" unless its first word is in :data:`NOT_NAMES`; anywhere else in an
utterance ("it's Priya Shah, can I …") only a word in :data:`GIVEN_NAMES`, or one after an
explicit "my name is", counts. The list is deliberately broad across languages and short
enough to read; it decides only the unprompted case, never refuses a name given on request.
"""

from __future__ import annotations

GIVEN_NAMES = frozenset(
    """
    aaron abby abdul abigail adam adrian ahmed aisha alan albert alex alexander alexandra
    alexis ali alice alicia alison amanda amber amelia amir amy ana andre andrea andrew
    andy angela angelo ann anna anne annie anthony antonio arjun arthur asha ashley aubrey
    ava barbara beatriz ben benjamin beth betty bill bob bobby brad brandon brenda brian
    bridget brittany bruce bryan caitlin cameron carla carlos carmen carol caroline carter
    catherine charles charlie charlotte chen chloe chris christina christine christopher
    claire clara connor craig cynthia daisy dan dana daniel daniela danny darren david
    debbie deborah dennis derek diana diane diego dina dmitri dominic donna dorothy dylan
    ed eddie edward eileen elena eli elijah elizabeth ella ellie emily emma eric erica erin
    ethan eva evan evelyn fatima felix fernando fiona frank freya gabriel gary george
    georgia gina grace greg hana hannah harper harry hassan heather helen henry hiroshi holly
    hugo ian imran ines isaac isabel isabella isla ivan jack jackson jacob jake james jamie
    jan jane janet jasmine jason javier jay jean jeff jenna jennifer jenny jeremy jerry jess
    jessica jim jo joan joanna joe joel john johnny jon jonathan jordan jorge jose joseph
    josh joshua juan julia julian julie justin kai karen kate katherine kathy katie kayla
    keith kelly ken kenji kevin kim kyle laura lauren layla leah lee leo leon liam lily
    linda lisa liz logan lucas lucia lucy luis luke lydia maddie madison maria mariam marie
    marco mark martin mary mason matt matthew maya megan mei melissa mia michael michelle
    miguel mike mila mohammed molly monica morgan nadia naomi natalie nathan neil nicole
    nina noah nora olivia omar oscar owen pablo pam patricia patrick paul paula peter
    philip pooja priya rachel rahul raj ravi rebecca ricardo richard rita rob robert robin
    rosa rose ruby ryan sally sam samantha samuel sandra sara sarah scott sean sebastian
    sergio shah sharon sofia sophia sophie stella stephanie stephen steve steven sue susan
    tara taylor ted theo thomas tim timothy tina tom tommy tony tyler valentina vanessa
    victor victoria vincent wei wendy will william xavier yasmin yusuf zach zara zoe
    agnes aoife beverly ciara declan doreen doris edith frances gemma gloria irene joyce
    kathleen margaret maureen niamh phyllis ruth seamus shirley sinead siobhan walter
    """.split()
)
"""Common given names, lower case."""

NOT_NAMES = frozenset(
    """
    oh ah aha er erm hmm hm mm uh um umm yes yeah yep yup ya no nope nah okay ok alright
    sure actually honestly basically well so and but or like just really anyway also
    you you're youre your you'll we we're they they're he she he's she's it it's its that
    that's thats this these those there there's what what's who who's why how hello hi hey
    sorry excuse pardon please thanks thank cheers fine good great lovely perfect nice cool
    right wrong correct true exactly maybe perhaps probably rather prefer said say name
    names mine myself nobody anyone none not never wait hold hang second moment minute sec
    make change push move instead still same again only mean meant happy here back calling
    looking wondering trying hoping interested busy ready done new late early running both
    together too each all
    huh eh uh-huh mm-hmm mhm oops whoops gotcha awesome excellent wonderful brilliant super
    amazing fantastic either neither whichever whatever whenever anytime any dunno idk asap
    later sooner soon earlier noon midday lunch lunchtime tonight weekend team staff person
    people nevermind repeat absolutely definitely certainly indeed affirmative course
    two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty
    fifty half quarter sounds works bet thing ma'am maam sir mate dear love darling hun
    honey buddy pal
    come comes coming go goes going get gets getting have has having need needs want wants
    book books take bring see call do does can could would should might must is are was
    were be been
    """.split()
)
"""Words that are never a name, whatever their capitals: interjections, pronouns, fillers."""
