from . import cartum_import_wizard
