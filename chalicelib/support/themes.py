"""What a comment is about: delivery, damage, quality, a wrong item or size, price, support,
refund, praise.  A pure function of the comment and the store's own keywords.

Each theme has two kinds of terms, in English, Arabic, Persian, Hebrew and Greek:

- *signs* say it on their own ("late", "arrived broken", "لم يصل", "לא הגיע", "δεν ήρθε");
- *topics* name the subject ("delivery", "الجودة", "قیمت", "שירות", "εξυπηρέτηση") and count
  only in a clause that reads negative ("the quality is poor", "שירות רע").

Both go through the sentiment lexicon's normalisation and negation
(:func:`chalicelib.support.sentiment.mentions`): "not late", "nothing was damaged",
"بدون تأخير", "هیچ آسیبی", "κανένα πρόβλημα με την παράδοση" tag nothing, and a negation never
reaches across "but".  Praise is its own theme: "love it" is praise, "wouldn't recommend" is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from chalicelib.core.models import THEMES
from chalicelib.support.sentiment import Term, lexicon_terms, mentions

# Words of a phrase are joined by "_"; a trailing * matches any ending.
SIGNS: dict[str, str] = {
    "delivery": """
        late delay* slow_delivery slow_shipping took_forever took_ages took_weeks never_arrived
        did_not_arrive never_came never_delivered not_delivered still_waiting still_not_here
        lost_in_the_post lost_parcel lost_package
        متاخر* تاخير تاخر* ما_وصل ماوصل موصلش لم_يصل لسه_ما_وصل توصيل_بطيء شحن_بطيء ضاع_الطرد
        دیر دیر_رسید تاخیر نرسید نرسیده هنوز_نرسیده ارسال_کند
        איחור מאוחר התעכב* עיכוב לא_הגיע עדיין_לא_הגיע לקח_המון_זמן החבילה_נאבדה
        καθυστερ* αργησ* δεν_ηρθε δεν_εφτασε δεν_παραδοθηκε ακομα_περιμενω χαθηκε
    """,
    "damaged": """
        damaged broken crushed dented cracked smashed shattered scratched torn leak* arrived_in_pieces
        مكسور* تالف* مخدوش* مبعوج* محطم* ممزق* متضرر* مشعور*
        شکسته اسیب* ترک_خورده خراب_رسید له_شده خط_و_خش پاره
        שבור* פגום* סדוק* שרוט* מעוך* קרוע* ניזוק* נזק
        σπασμεν* ζημια* ζημιε* γρατζουνισμεν* ραγισμεν* σκισμεν* τσακισμεν* κατεστραμμεν* στραβωμεν*
    """,
    "quality": """
        poor_quality low_quality bad_quality cheaply_made poorly_made flimsy fell_apart stopped_working
        does_not_work did_not_work broke_after defective faulty junk garbage rubbish
        رديء* رديئ* جوده_سيئه خربان* معطل* ما_اشتغل مابيشتغل مبيشتغلش لا_يعمل باظ بايظ مغشوش تقليد
        بی_کیفیت کیفیت_پایین معیوب خراب کار_نمیکند خراب_شد بنجل تقلبی
        איכות_ירודה איכות_גרועה לא_עובד הפסיק_לעבוד התפרק* מקולקל* תקול* זבל
        κακη_ποιοτητα χαμηλη_ποιοτητα κακης_ποιοτητας ελαττωματικ* δεν_λειτουργει σταματησε_να_λειτουργει
        χαλασε διαλυθηκε σκουπιδι*
    """,
    "wrong_item": """
        wrong_item wrong_size wrong_colour wrong_color wrong_product wrong_model wrong_order too_small
        too_big too_large too_tight too_loose does_not_fit did_not_fit not_what_i_ordered
        not_as_described missing_item was_missing were_missing sent_the_wrong
        مقاس_غلط لون_غلط منتج_غلط غير_المطلوب مش_اللي_طلبته مو_اللي_طلبته صغير_جدا كبير_جدا ناقص
        مختلف_عن_الصوره لون_مختلف خاطئ*
        سایز_اشتباه رنگ_اشتباه اشتباه_فرستادید خیلی_کوچک خیلی_بزرگ اندازه_نیست کسری ناقص متفاوت_با_عکس
        מידה_לא_נכונה מוצר_לא_נכון צבע_לא_נכון פריט_לא_נכון לא_מה_שהזמנתי קטן_מדי גדול_מדי לא_מתאים חסר*
        λαθος_μεγεθος λαθος_νουμερο λαθος_προιον λαθος_χρωμα λαθος_παραγγελια πολυ_μικρο πολυ_μεγαλο
        δεν_μου_κανει λειπει λειπαν ελλιπ*
    """,
    "price": """
        expensive overpriced pricey rip_off ripped_off not_worth waste_of_money overcharged
        charged_twice hidden_fees price_is_too_high too_much_money
        غالي غاليه غالي_جدا مبالغ_فيه ما_يستاهل مش_مستاهل مو_مستاهل لا_يستحق سعره_عالي اسعار_عاليه مكلف
        گران گرون گرونه گرانه قیمت_بالا ارزش_نداشت نمیارزد نمیارزه گران_فروشی
        יקר יקרה יקרים יקר_מדי מחיר_מופקע לא_שווה חייבו_אותי_פעמיים
        ακριβο ακριβη ακριβος ακριβα ακριβοτερ* πανακριβ* υπερτιμημεν* δεν_αξιζει πεταμενα_λεφτα
    """,
    "support": """
        rude unhelpful no_reply no_response no_answer never_replied never_answered never_responded
        did_not_reply did_not_respond did_not_answer nobody_answered no_one_answered ignored_my
        hung_up on_hold
        وقح* ما_حدا_رد محدش_رد لا_احد_يرد ما_ردوا مردوش ما_في_رد بدون_رد تجاهلو* تجاهلني
        بی_ادب جواب_ندادند جواب_نمیدن پاسخ_ندادند پاسخگو_نیستند برخورد_بد
        גס_רוח גסי_רוח לא_ענו לא_עונים אף_אחד_לא_ענה לא_חזרו_אליי התעלמו
        αγενη* αγενεις δεν_απαντησ* δεν_απαντουν κανεις_δεν_απαντ* με_αγνοησαν
    """,
    "refund": """
        refund* money_back reimburse* return_it send_it_back sending_it_back return_label
        استرجاع استرداد ارجاع ترجيع رجعوا_فلوسي فلوسي
        بازگشت_وجه برگشت_پول پس_دادن پس_بدهید پس_بدید پولمو_برگردونید مرجوع* عودت* استرداد
        החזר* להחזיר זיכוי כסף_בחזרה
        επιστροφ* επιστρεψ* επιστρεφω τα_λεφτα_μου_πισω αποζημιωσ*
    """,
    "praise": """
        love* excellent amazing perfect* great wonderful fantastic awesome brilliant superb recommend*
        delighted impressed beautiful five_stars 5_stars spot_on well_made
        ممتاز* رائع* جميل* حلو* عجبني عاجبني بحبه احببت* انصح* مبسوط* سعيد* تحفه روعه يجنن خرافي
        عالی عالیه خیلی_خوب فوق_العاده دوست_دارم راضی پیشنهاد_میکنم توصیه_میکنم خوشحال* بی_نظیر محشر
        מעולה מעולים מושלם* נהדר* מדהים* אהבתי ממליץ ממליצה ממליצים מרוצה מרוצים אלופים מקסים*
        τελειο τελεια τελειος εξαιρετικ* υπεροχ* καταπληκτικ* φανταστικ* μου_αρεσ* λατρευω λατρεψα
        ευχαριστημεν* ικανοποιημεν* συστηνω προτεινω ωραι*
    """,
}
# Subjects: a theme only in a clause that reads negative ("the delivery was a disaster").
TOPICS: dict[str, str] = {
    "delivery": """
        delivery deliveries shipping shipment courier postage
        توصيل شحن شحنه طرد مندوب
        ارسال پیک تحویل مرسوله
        משלוח משלוחים שליח דואר
        παραδοση αποστολη κουριερ μεταφορικ*
    """,
    "quality": """
        quality material materials fabric stitching
        جوده خامه قماش
        کیفیت جنس پارچه
        איכות חומר בד
        ποιοτητα υλικο υφασμα
    """,
    "wrong_item": """
        size sizing colour color
        مقاس لون
        سایز اندازه رنگ
        מידה מידות צבע
        μεγεθος νουμερο χρωμα
    """,
    "price": """
        price prices pricing cost
        سعر اسعار ثمن تكلفه
        قیمت هزینه
        מחיר מחירים עלות
        τιμη τιμες κοστος
    """,
    "support": """
        support service customer_service staff agent
        خدمه خدمه_العملاء دعم موظف* تعامل
        پشتیبانی پاسخگویی خدمات
        שירות שירות_לקוחות נציג* תמיכה
        εξυπηρετηση υποστηριξη υπαλληλ* εκπροσωπ*
    """,
}


def labels(_: Callable[[str], str]) -> dict[str, str]:
    """Each theme's name for people, in the language of ``_`` (``templates/locale/*/themes.po``)."""
    return {
        "delivery": _("Delivery"),
        "damaged": _("Damaged"),
        "quality": _("Quality"),
        "wrong_item": _("Wrong item or size"),
        "price": _("Price"),
        "support": _("Support"),
        "refund": _("Refund"),
        "praise": _("Praise"),
    }


@lru_cache(maxsize=1)
def _default_terms() -> tuple[dict[str, tuple[Term, ...]], dict[str, tuple[Term, ...]]]:
    signs = {theme: lexicon_terms(SIGNS.get(theme, "").split()) for theme in THEMES}
    topics = {theme: lexicon_terms(TOPICS.get(theme, "").split()) for theme in THEMES}
    return signs, topics


def tag(comment: str | None, keywords: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """The themes of a comment, in :data:`THEMES` order.  ``keywords`` are the store's own
    signs per theme (``theme_keywords``), in any of the languages, read like the built-in ones."""
    if not comment or not comment.strip():
        return ()
    signs, topics = _default_terms()
    owner: dict[str, tuple[str, bool]] = {}  # term text -> (theme, is a sign)
    terms: list[Term] = []
    for theme in THEMES:
        extra = lexicon_terms(tuple((keywords or {}).get(theme) or ()))
        for term in signs[theme] + extra:
            owner.setdefault(term.text, (theme, True))
            terms.append(term)
        for term in topics[theme]:
            owner.setdefault(term.text, (theme, False))
            terms.append(term)
    found: set[str] = set()
    for mention in mentions(comment, tuple(terms)):
        theme, is_sign = owner[mention.term]
        if mention.negated:
            continue
        if is_sign or mention.clause_negative:
            found.add(theme)
    return tuple(theme for theme in THEMES if theme in found)
