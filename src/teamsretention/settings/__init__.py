"""Configuration: the sections (``sections``), the whole and what it derives (``model``), reading it from a
TOML file and the environment (``loading``), and cron schedules and cycle times (``schedule``)."""

from .loading import CONFIG_ENV, ENV_PREFIX, env_name, load_settings
from .model import SECTIONS, Settings, default_state_dir
from .sections import SECRET_KEYS

__all__ = ["CONFIG_ENV", "ENV_PREFIX", "SECRET_KEYS", "SECTIONS", "Settings", "default_state_dir", "env_name",
           "load_settings"]
