from . import test_i18n
from . import test_import
from . import test_security
from . import test_sync
from . import test_tours
from . import test_trust
from . import test_lines
