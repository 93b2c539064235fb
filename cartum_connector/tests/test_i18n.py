from pathlib import Path

import polib
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

I18N = Path(__file__).parent.parent / "i18n"
SAME_AS_SOURCE = "Same as the source."


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_term_is_translated_in_spanish_and_ukrainian(self):
        """The .po files follow the code: a new or changed string without a translation fails."""
        reader = TranslationModuleReader(self.env.cr, modules=["cartum_connector"])
        terms = {source for _module, _type, _name, _res_id, source, _value, _comments in reader}
        self.assertGreater(len(terms), 100)
        for language in ("es", "uk"):
            catalog = polib.pofile(str(I18N / f"{language}.po"))
            # OCA's format leaves a translation that reads as the source empty: its translator
            # comment says so.
            translated = {
                entry.msgid
                for entry in catalog
                if (entry.msgstr or entry.tcomment == SAME_AS_SOURCE) and "fuzzy" not in entry.flags
            }
            missing = sorted(terms - translated)
            self.assertFalse(missing, f"{language}.po lacks {len(missing)} terms: {missing[:10]}")
