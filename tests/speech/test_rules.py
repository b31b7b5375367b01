"""Every rewrite rule, by example: raw model text in, what the voice is given out."""

from __future__ import annotations

import pytest

from voiceops.speech import clean, is_speakable

MARKDOWN = [
    (
        "**Bold** and __also bold__, *italic* and _italic_.",
        "Bold and also bold, italic and italic.",
    ),
    ("~~old~~ price", "old price"),
    ("**Note:** we close early", "Note: we close early"),
    ("Keep snake_case and __init__", "Keep snake_case and init"),
    ("5 * 3 and 5*3.", "5 times 3 and 5 times 3."),
    ("# Opening hours\nWe open at 9.", "Opening hours. We open at 9."),
    ("### Prices", "Prices"),
    (
        "Options:\n- Haircut\n- Colour\n* Blow dry\n+ Beard trim",
        "Options: Haircut. Colour. Blow dry. Beard trim",
    ),
    ("• Haircut\n• Colour", "Haircut. Colour"),
    ("Steps:\n1. Pick a time\n2) Confirm", "Steps: Pick a time. Confirm"),
    ("1. **Haircut** - $45", "Haircut - 45 dollars"),
    ("How many?\n2.", "How many? 2."),
    ("See [our site](https://maple.com/book).", "See our site."),
    ("![logo](https://x.com/logo.png) Maple", "logo Maple"),
    ("[https://maple.com](https://maple.com)", "maple dot com"),
    (
        "| Service | Price |\n|---|---:|\n| Haircut | $45 |\n| Colour | $120 |",
        "Service, Price. Haircut, 45 dollars. Colour, 120 dollars",
    ),
    ("|Haircut|$45|", "Haircut, 45 dollars"),
    ("Menu: haircut | colour", "Menu: haircut, colour"),
    ("```python\nprint('hi')\n```\nDone.", "Done."),
    ("Before\n~~~\ncode\n~~~\nAfter", "Before. After"),
    ("```\nnever closed", ""),
    ("Use `book_slot` or ``code``.", "Use book_slot or code."),
    ("> Quoted\n> > nested\n>- quoted item", "Quoted. nested. quoted item"),
    ("Above\n---\nBelow\n***\nEnd\n___", "Above. Below. End"),
    ("Title\n=====\nText", "Title. Text"),
    ("Hello<br>there <b>now</b>", "Hello there now"),
    ("\\*not emphasis\\*", "not emphasis"),
]

LINES = [
    ("Line one\nline two\n\nNew paragraph.", "Line one. line two. New paragraph."),
    ("Line one.\nLine two!", "Line one. Line two!"),
    ("Hours:\nTuesday", "Hours: Tuesday"),
    ("(see below)\nNext", "(see below). Next"),
    ("First -\nsecond", "First - second"),
    ("Ends with a newline\n", "Ends with a newline"),
    ("\n\n- \n", ""),
]

EMOJI = [
    ("Great 😊!", "Great!"),
    ("😊 Hello", "Hello"),
    ("Done ✅.", "Done."),
    ("Hi 😊 .", "Hi."),
    ("(see 😊)", "(see)"),
    ("Hello!😊How are you", "Hello! How are you"),
    ("Family 👨\u200d👩\u200d👧\u200d👦 here", "Family here"),
    ("Thumbs 👍🏽 up", "Thumbs up"),
    ("Flags 🇺🇸🇬🇧 and 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "Flags and"),
    ("Press 1️⃣ for bookings, 2⃣ for billing", "Press 1 for bookings, 2 for billing"),
    ("Hearts ❤️ ❤ ♥", "Hearts"),
    ("Info \u2139\ufe0f here \u203c\ufe0f", "Info here"),
    ("Lone parts \u200d \ufe0f \U0001f3fd \U0001f1fa gone", "Lone parts gone"),
    ("Symbols © ® ™ → ✓ gone", "Symbols gone"),
    ("Café in São Paulo, naïve Zoë", "Café in São Paulo, naïve Zoë"),
]

URLS_AND_EMAIL = [
    ("Visit https://www.example.com/path?x=1.", "Visit example dot com."),
    ("Visit http://maple-salon.co.uk/ now", "Visit maple dash salon dot co dot uk now"),
    ("Go to www.maple.com, or maple.com.", "Go to maple dot com, or maple dot com."),
    ("See <https://maple.com/book>", "See maple dot com"),
    ("Email book@maple.com.", "Email book at maple dot com."),
    ("First.Last+vip@Maple-Salon.com", "first dot last plus vip at maple dash salon dot com"),
    ("Ping @maple on social.", "Ping at maple on social."),
    ("Not a site: e.g. this, file.py", "Not a site: e.g. this, file.py"),
]

PRICES = [
    ("$45", "45 dollars"),
    ("$45.50", "45 dollars and 50 cents"),
    ("$45.5", "45 dollars and 50 cents"),
    ("$45.00", "45 dollars"),
    ("$1,200", "1,200 dollars"),
    ("$1,200.05", "1,200 dollars and 5 cents"),
    ("$1", "1 dollar"),
    ("$1.01", "1 dollar and 1 cent"),
    ("$0.99", "99 cents"),
    ("It is $45.", "It is 45 dollars."),
    ("($45)", "(45 dollars)"),
    ("**$45**", "45 dollars"),
    ("$40-60", "40 to 60 dollars"),
    ("$40\u2013$60.50", "40 dollars to 60 dollars and 50 cents"),
    ("$5M", "5 million dollars"),
    ("$2.5k", "2.5 thousand dollars"),
    ("$5 million.", "5 million dollars."),
    ("€12", "12 euros"),
    ("£3.50", "3 pounds and 50 pence"),
    ("$ alone", "alone"),
]

TIMES = [
    ("9:30am", "9:30 AM"),
    ("9:30 AM", "9:30 AM"),
    ("9:30 a.m. works", "9:30 AM works"),
    ("9 am", "9 AM"),
    ("9AM", "9 AM"),
    ("at 9pm.", "at 9 PM."),
    ("9:00 PM", "9 PM"),
    ("12 PM", "12 PM"),
    ("14:00", "2 PM"),
    ("14:30", "2:30 PM"),
    ("09:30", "9:30 AM"),
    ("00:15", "12:15 AM"),
    ("9:30", "9:30"),
    ("12:00", "12:00"),
    ("9am-5pm", "9 AM to 5 PM"),
    ("9-11am", "9 to 11 AM"),
    ("09:00-17:00", "9 AM to 5 PM"),
    ("9:00-11:30", "9:00 to 11:30"),
    ("9-5", "9-5"),
    ("25:00 and 13pm", "25:00 and 13pm"),
    ("I am 9 and am here", "I am 9 and am here"),
]

DATES = [
    ("2026-12-01", "December 1st, 2026"),
    ("On 2026-12-22.", "On December 22nd, 2026."),
    ("2026-11-13", "November 13th, 2026"),
    ("2026-02-30", "2026-02-30"),
    ("12/01/2026", "December 1st, 2026"),
    ("3/3/2027", "March 3rd, 2027"),
    ("12/01", "12/01"),
    ("1/2 off", "1/2 off"),
]

PHONES = [
    ("+12125550143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("(212) 555-0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("(212)555-0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("212-555-0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("212.555.0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("1-212-555-0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("+1 212 555 0143", "2 1 2, 5 5 5, 0 1 4 3"),
    ("+1 (212) 555-0143.", "2 1 2, 5 5 5, 0 1 4 3."),
    ("Call (212) 555-0143, thanks", "Call 2 1 2, 5 5 5, 0 1 4 3, thanks"),
    ("+44 20 7183 8750", "plus 4 4, 2 0, 7 1 8 3, 8 7 5 0"),
    ("+442071838750", "plus 4 4, 2 0, 7 1 8 3, 8 7 5 0"),
    ("(212) is the area code", "(212) is the area code"),
    ("+1 person", "plus 1 person"),
]

SYMBOLS = [
    ("Tom & Jerry, R&B", "Tom and Jerry, R and B"),
    ("50% off", "50 percent off"),
    ("100 %", "100 percent"),
    ("72°F", "72 degrees"),
    ("72 °F", "72 degrees"),
    ("20°C", "20 degrees Celsius"),
    ("It's 3 + 4 = 7", "It's 3 plus 4 equals 7"),
    ("3+4=7", "3 plus 4 equals 7"),
    ("2^3", "2 to the power of 3"),
    ("+5 degrees", "plus 5 degrees"),
    ("50+ styles", "50 plus styles"),
    ("~30 minutes", "about 30 minutes"),
    ("<5 people", "less than 5 people"),
    ("a > b", "a b"),
    ("{name} [draft] #1 a ~ b ^ c | d", "name draft 1 a b c, d"),
    ("C++", "C"),
    ("and/or 24/7", "and/or 24/7"),
]

WHITESPACE = [
    ("  Hello   there  ", "Hello there"),
    ("Hello\tthere\r\nfriend", "Hello there. friend"),
    ("Hello\u00a0there", "Hello there"),
    ("\u2014and then", "and then"),
    ("... well", "well"),
    ("Wait... what?", "Wait... what?"),
    ("Hello . World", "Hello. World"),
    ("Really?!", "Really?!"),
    ("", ""),
    ("   \n\n  ", ""),
    ("😊", ""),
]


@pytest.mark.parametrize(
    ("raw", "spoken"),
    MARKDOWN
    + LINES
    + EMOJI
    + URLS_AND_EMAIL
    + PRICES
    + TIMES
    + DATES
    + PHONES
    + SYMBOLS
    + WHITESPACE,
)
def test_rule(raw: str, spoken: str) -> None:
    assert clean(raw) == spoken


@pytest.mark.parametrize(
    ("text", "speakable"),
    [
        ("", False),
        ("...", False),
        ("\u2014", False),
        ("_", False),
        ("a", True),
        ("5", True),
        ("é", True),
        ("Hi!", True),
    ],
)
def test_is_speakable(text: str, speakable: bool) -> None:
    assert is_speakable(text) is speakable
