"""Ready-made stores: a small demo shop and a large generated one."""

import random
from datetime import timedelta

from .store import SandboxStore

CUSTOM_STATUS = (7, {"ua": "Очікує запчастину", "en": "Waiting for part"}, False)

DEMO_PRODUCTS = (
    # article, ua title, en title, price, category, ua description, en description
    ("DSP-IP12", "Дисплей iPhone 12 (OLED)", "iPhone 12 display (OLED)", 3200.0,
     "Запчастини/Дисплеї", "Оригінальна OLED-матриця з тачскріном.",
     "Original OLED panel with touchscreen."),
    ("DSP-IP13", "Дисплей iPhone 13", "iPhone 13 display", 3900.0,
     "Запчастини/Дисплеї", "Дисплейний модуль у зборі з рамкою.",
     "Display assembly with frame."),
    ("DSP-SM-A52", "Дисплей Samsung Galaxy A52", "Samsung Galaxy A52 display", 2450.0,
     "Запчастини/Дисплеї", "Super AMOLED, сумісний з A525F.",
     "Super AMOLED, fits A525F."),
    ("BAT-IP12", "Акумулятор iPhone 12", "iPhone 12 battery", 950.0,
     "Запчастини/Акумулятори", "Ємність 2815 мА·год.", "Capacity 2815 mAh."),
    ("BAT-SM-A52", "Акумулятор Samsung Galaxy A52", "Samsung Galaxy A52 battery", 780.0,
     "Запчастини/Акумулятори", "Ємність 4500 мА·год.", "Capacity 4500 mAh."),
    ("BAT-XI-RN10", "Акумулятор Xiaomi Redmi Note 10", "Xiaomi Redmi Note 10 battery", 620.0,
     "Запчастини/Акумулятори", "Модель BN59, 5000 мА·год.", "Model BN59, 5000 mAh."),
    ("SRV-SCREEN", "Заміна екрана", "Screen replacement", 500.0,
     "Послуги", "Робота майстра, від 40 хвилин.", "Technician's work, from 40 minutes."),
    ("SRV-BATTERY", "Заміна акумулятора", "Battery replacement", 300.0,
     "Послуги", "Робота майстра, 20 хвилин.", "Technician's work, 20 minutes."),
)

FIRST_NAMES = ("Олена", "Андрій", "Ірина", "Тарас", "Наталія", "Богдан", "Оксана", "Дмитро",
               "Юлія", "Максим", "Софія", "Володимир")
LAST_NAMES = ("Петренко", "Коваленко", "Шевченко", "Бондаренко", "Ткаченко", "Кравченко",
              "Мельник", "Олійник", "Савченко", "Лисенко")
CITIES = ("Київ", "Львів", "Одеса", "Харків", "Дніпро", "Вінниця")
DELIVERY_TYPES = ("Нова Пошта", "Укрпошта", "Самовивіз")
OPERATOR_CODES = ("50", "63", "66", "67", "68", "73", "93", "96", "97", "98")
GENERATED_CATEGORIES = ("Запчастини/Дисплеї", "Запчастини/Акумулятори", "Запчастини/Корпуси",
                        "Аксесуари", "Послуги")
# Mostly open orders, as in a live shop: 1 New, 2 Processing, 6 Shipping, 7 custom,
# 4 Canceled, 3 Delivered.
GENERATED_STATUS_WEIGHTS = {1: 40, 2: 25, 6: 15, 7: 5, 4: 5, 3: 10}


def phone_formats(operator, number):
    """The same Ukrainian mobile number written the ways customers type it."""
    return (
        f"+380 {operator} {number[:3]} {number[3:5]} {number[5:]}",
        f"0{operator}{number}",
        f"380{operator}{number}",
        f"+380{operator}{number}",
        f"(0{operator}) {number[:3]}-{number[3:5]}-{number[5:]}",
    )


def _new_store(**options):
    store = SandboxStore(**options)
    store.add_status(*CUSTOM_STATUS)
    store.add_currency("USD", 41.5)
    store.add_currency("EUR", 45.2)
    return store


def demo_store():
    """A small phone-repair shop with orders from the last ten days."""
    store = _new_store(login="demo-api", password="demo-secret")
    for article, title_ua, title_en, price, category, text_ua, text_en in DEMO_PRODUCTS:
        store.add_product(
            article,
            {"ua": title_ua, "en": title_en},
            price,
            descriptions={"ua": text_ua, "en": text_en},
            category=category,
        )

    now = store.now()
    olena = {"customer_name": "Олена Петренко", "email": "olena.petrenko@example.com"}
    andriy = {"customer_name": "Андрій Коваленко"}
    store.add_order(
        created=now - timedelta(days=9, hours=3), status=2, phone="+380 67 123 45 67",
        lines=[("DSP-IP12", 1), ("SRV-SCREEN", 1)], **olena,
    )
    store.add_order(
        created=now - timedelta(days=7, hours=1), status=6, phone="+380 50 987 65 43",
        delivery_price=70.0, address="вул. Хрещатик, 22, кв. 5",
        lines=[("BAT-SM-A52", 2), ("SRV-BATTERY", 2)], **andriy,
    )
    store.add_order(
        created=now - timedelta(days=5), status=3, phone="0671234567",
        lines=[("BAT-IP12", 1), ("SRV-BATTERY", 1)], **olena,
    )
    store.add_order(
        created=now - timedelta(days=4, hours=6), status=4, phone="+380931112233",
        customer_name="Тарас Бондаренко", city="Одеса",
        lines=[("DSP-IP13", 1), ("SRV-SCREEN", 1)], comment="Скасовано клієнтом",
    )
    store.add_order(
        created=now - timedelta(days=3, hours=2), status=7, phone="(097) 555-12-34",
        customer_name="Ірина Шевченко", email="iryna@example.com", city="Львів",
        delivery_type="Укрпошта", lines=[("DSP-SM-A52", 1), ("SRV-SCREEN", 1)],
        comment="Чекаємо дисплей від постачальника",
    )
    store.add_order(
        created=now - timedelta(days=1, hours=5), status=1, phone="380671234567",
        lines=[("BAT-XI-RN10", 1), ("DSP-IP13", 1), ("SRV-SCREEN", 1)],
        comment="Передзвоніть після 18:00", **olena,
    )
    store.add_order(
        created=now - timedelta(hours=2), status=1, phone="050 987 65 43",
        delivery_type="Самовивіз", lines=[("DSP-IP13", 1), ("BAT-IP12", 1), ("SRV-SCREEN", 1)],
        **andriy,
    )
    return store


def generated_store(orders=2000, products=500, customers=1500, seed=1, lines_per_order=3):
    """A large store, identical for the same arguments except for dates relative to now."""
    rng = random.Random(seed)
    store = _new_store()
    articles = [f"GEN-{number:05d}" for number in range(1, products + 1)]
    for number, article in enumerate(articles, start=1):
        store.add_product(
            article,
            {"ua": f"Товар {number:05d}", "en": f"Product {number:05d}"},
            round(rng.uniform(50, 5000), 2),
            descriptions={"ua": f"Опис товару {number:05d}", "en": f"Product {number} text"},
            category=rng.choice(GENERATED_CATEGORIES),
        )

    people = [
        {
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "phones": phone_formats(rng.choice(OPERATOR_CODES), f"{rng.randrange(10**7):07d}"),
            "city": rng.choice(CITIES),
        }
        for _ in range(customers)
    ]

    now = store.now()
    # Sorted so that order ids grow with creation time, as in a real store.
    ages = sorted((rng.uniform(0, 30 * 86400) for _ in range(orders)), reverse=True)
    statuses = list(GENERATED_STATUS_WEIGHTS)
    weights = list(GENERATED_STATUS_WEIGHTS.values())
    for age in ages:
        person = rng.choice(people)
        chosen = rng.sample(articles, min(lines_per_order, len(articles)))
        store.add_order(
            created=now - timedelta(seconds=int(age)),
            status=rng.choices(statuses, weights)[0],
            customer_name=person["name"],
            phone=rng.choice(person["phones"]),
            city=person["city"],
            delivery_type=rng.choice(DELIVERY_TYPES),
            delivery_price=rng.choice((-1, -1, 70.0, 95.0)),
            lines=[(article, rng.randint(1, 3)) for article in chosen],
        )
    return store
