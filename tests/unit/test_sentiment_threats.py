"""Threats are urgent in every language, however they are phrased: a lawyer, a lawsuit, a
chargeback, consumer protection, a regulator, a public review.  A negation inside a condition
("if you don't answer…") does not cancel the threat that follows it; "no need for a lawyer"
is not a threat."""

from __future__ import annotations

import pytest

from chalicelib.support.sentiment import classify, read_comment

DEFAULTS = {"nps_threshold": 6, "csat_threshold": 2, "ces_threshold": 5}

URGENT = {
    "en": [
        "If you don't answer I'll call a lawyer",
        "If I don't hear back by Friday my lawyer will contact you",
        "Unless you refund me I'm taking you to small claims court",
        "I will dispute the charge with my bank",
        "I'm filing a chargeback today",
        "I'm reporting you to consumer protection",
        "I will report this to the Better Business Bureau",
        "Expect a complaint to the regulator",
        "I'll leave a one star review everywhere",
        "I am going to post about this on social media",
        "If this isn't fixed I will sue",
        "My attorney will be in touch",
    ],
    "ar": [
        "المنتج وصل تالف وإذا لم تردوا سأتصل بمحامي",
        "إذا ما رديتوا علي رح أرفع قضية",
        "اذا ما رجعتوا فلوسي بشتكي لحماية المستهلك",
        "سأقدم شكوى إلى جهاز حماية المستهلك",
        "سألغي الدفع من البنك",
        "سأرفع دعوى قضائية ضدكم",
        "سأكتب تقييم سلبي في كل مكان",
        "هفضحكم على السوشيال ميديا",
        "لو ما حليتوا المشكلة هكلم محامي",
        "سأبلغ وزارة التجارة",
    ],
    "fa": [
        "اگر جواب ندهید به وکیل زنگ میزنم",
        "اگه پولمو پس ندید شکایت میکنم",
        "به سازمان حمایت از مصرف کننده شکایت می‌کنم",
        "از طریق بانک پرداخت را برگشت میزنم",
        "در همه جا نظر منفی می‌نویسم",
        "به تعزیرات گزارش می‌دهم",
        "وکیلم با شما تماس می‌گیرد",
        "شما را به دادگاه می‌کشانم",
    ],
    "he": [
        "אם לא תענו אני פונה לעורך דין",
        "אם לא תחזירו לי את הכסף אתבע אתכם",
        "אני מגיש תביעה קטנה",
        "אני פונה לרשות להגנת הצרכן",
        "אתלונן במועצה לצרכנות",
        "אבטל את העסקה דרך חברת האשראי",
        "אכתוב ביקורת שלילית בכל מקום",
        "אני אפרסם את זה ברשתות החברתיות",
        "ואם לא תטפלו בזה אגיש תביעה",
    ],
    "el": [
        "Αν δεν απαντήσετε θα πάρω δικηγόρο",
        "Αν δεν μου επιστρέψετε τα χρήματα θα σας μηνύσω",
        "Θα κάνω καταγγελία στον Συνήγορο του Καταναλωτή",
        "Θα απευθυνθώ στην ΕΚΠΟΙΖΩ",
        "Θα ζητήσω αντιλογισμό χρέωσης από την τράπεζα",
        "Θα γράψω αρνητική κριτική παντού",
        "Θα σας πάω στα δικαστήρια",
        "Θα το ανεβάσω στα social media",
    ],
}

NOT_URGENT = {
    "en": [
        "No need for a lawyer, it was just late",
        "I don't need a lawyer for this, just a reply",
        "Not going to sue anyone, it was fine",
    ],
    "ar": ["لا داعي للمحامي، فقط تأخر قليلاً", "مش محتاج محامي، بس ردوا علي"],
    "fa": ["نیازی به وکیل نیست، فقط دیر رسید"],
    "he": ["אין צורך בעורך דין, רק תענו לי", "לא אתבע אף אחד, הכל בסדר"],
    "el": ["Δεν χρειάζεται δικηγόρος, απλώς άργησε"],
}


@pytest.mark.parametrize(("language", "comment"), [(lang, c) for lang, cs in URGENT.items() for c in cs])
def test_a_threat_is_urgent(language: str, comment: str) -> None:
    verdict = classify("nps", 5, comment, DEFAULTS)
    assert verdict.priority == "urgent" and verdict.urgent_terms, (language, read_comment(comment))


@pytest.mark.parametrize(("language", "comment"), [(lang, c) for lang, cs in NOT_URGENT.items() for c in cs])
def test_a_threat_denied_is_not_urgent(language: str, comment: str) -> None:
    assert classify("nps", 8, comment, DEFAULTS).priority != "urgent", (language, read_comment(comment))


def test_a_negation_in_the_condition_still_negates_the_condition_itself() -> None:
    # "if it doesn't work" is still a complaint about it not working
    assert read_comment("If it doesn't work tomorrow I want a refund").negative


@pytest.mark.parametrize(
    "comment",
    [
        "Found you on social media and love the teapot",
        "وجدتكم على السوشيال ميديا، المنتج رائع",
        "מצאתי אתכם ברשתות החברתיות, מוצר מעולה",
        "Σας βρήκα στα social media, τέλειο",
    ],
)
def test_going_public_is_urgent_only_in_a_negative_answer(comment: str) -> None:
    # praise that mentions social media is no threat; the same words in a complaint are
    assert classify("nps", 10, comment, DEFAULTS).priority == "normal"
    assert classify("nps", 2, comment, DEFAULTS).priority == "urgent"
