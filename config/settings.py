"""Settings, read from the environment (12-factor).

With nothing set you get the embedded default: a SQLite file under var/, Celery tasks run in
process after commit, e-mail printed to the console. Set DATABASE_URL and REDIS_URL for the
production shape (PostgreSQL, a Redis broker, real workers and beat).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Local state of the embedded default (SQLite file, collected static files); not committed.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A development fallback so that a fresh clone runs; `manage.py check --deploy` flags it and
# docker-compose.yml sets a real key.
SECRET_KEY = env(
    "SECRET_KEY", default="insecure-development-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The product, in dependency order: each app imports only from those above it.
    "core",
    "operations",
    "accounts",
    "trial",
    "subjects",
    "dosing",
    "safety",
    "pharmacology",
    "escalation",
    "efficacy",
    "visits",
    "quality",
    "portal",
    "monitoring",
    "standards",
    "simulations",
    "api",
]

MIDDLEWARE = [
    # First: every later line of the request's log carries its id (docs/operations.md §4).
    "operations.requests.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The second factor, for the roles the study asks it of (quality/middleware.py).
    "quality.two_factor.two_factor_required",
    # An empty 405 becomes the app's own page (portal/middleware.py).
    "portal.middleware.MethodNotAllowedPage",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Pages for a signed-in user are not kept by browsers or proxies (clinical data).
    "config.middleware.no_store_when_signed_in",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monitoring.context_processors.safety_dashboards",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # IMMEDIATE transactions take SQLite's write lock up front, so two writers queue instead of
    # failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # No JIT compilation on the app's connections (docs/operations.md §6): the app's statements
    # are short OLTP reads and writes that gain nothing from it, and PostgreSQL compiles any
    # statement whose estimated cost passes jit_above_cost; a large aggregate (an earlier AE
    # table statement) lost 0.2-1.9 s to compiling. Appended to any options the URL sets.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections save a connection per request (the API benchmark: 158 -> 260 req/s on
# a bare endpoint); health checks drop a connection the server has closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Migrations run as the tables' owner, the app as a role that owns nothing (core/db.py): set
# MIGRATION_DATABASE_URL to the owner's connection and run `migrate --database migrate` and
# `grant_runtime_role <role> --database migrate`. Unset (development, CI): one connection does both.
MIGRATION_DATABASE_URL = env("MIGRATION_DATABASE_URL", default="")
if MIGRATION_DATABASE_URL:
    DATABASES["migrate"] = {
        **environ.Env.db_url_config(MIGRATION_DATABASE_URL),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": 0,
        "TEST": {"MIRROR": "default"},
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# After sign-in without ?next=: the dashboards for study-wide roles only, else the home page.
LOGIN_REDIRECT_URL = "monitoring:after_sign_in"
LOGOUT_REDIRECT_URL = "login"

# 21 CFR 11.300(d); docs/audit.md §5: repeated failed logins lock the account, idle sessions
# time out. The session expiry slides with each request, so it measures idleness.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
# Lock the account, not the address: a whole hospital often shares one outgoing IP address.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",
    # HSTS preloading commits the whole registrable domain and its subdomains to HTTPS in the
    # browsers' built-in list: the hosting organisation's decision (SECURE_HSTS_PRELOAD), not a
    # default of the app.
    "security.W021",
]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_address"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Behind HTTPS (production; docker-compose sets these) ---------------------------------
# Reverse proxies in front of the app that append to X-Forwarded-For: the client address for
# rate limits and login-failure records is taken that many entries from the end
# (config/client_ip.py). 0: the app is reached directly and the header is ignored.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# The TLS-terminating proxy tells the app the request was HTTPS, e.g.
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https. Set it only when that proxy overwrites
# the header: a client could otherwise claim HTTPS.
_proxy_ssl = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl) if len(_proxy_ssl) == 2 else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# The health check is asked over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): scripts, styles, images, fonts and connections from the
# app itself only; no inline script anywhere (htmx and the app's scripts are static files). Style
# attributes (the casebook timeline's positions) are the one inline allowance: they cannot run
# code. The API docs pages relax what their vendored bundles need (api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

LANGUAGE_CODE = "en"
# Stored times are UTC; pages convert to the site's timezone where it matters.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="edc@localhost")

# Audit trail: django-simple-history keeps a full snapshot per change; reasons may be long.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# The official NCI CTCAE v5.0 workbook (not shipped: users download it from NCI).
CTCAE_WORKBOOK = env("CTCAE_WORKBOOK", default="")

# Sponsor data standards: every export's zip is kept here (standards/; never deleted).
STANDARDS_EXPORT_DIR = Path(env("STANDARDS_EXPORT_DIR", default=str(VAR_DIR / "exports")))

# Celery. Without REDIS_URL, tasks run in process (eager) so no broker is needed.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (JSON with request ids), not Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A write enqueues its follow-up work after commit. With the broker down that must cost the user
# no noticeable time: one publish attempt (no kombu retry loop, which took 0.7-6 s) and a short
# connect timeout. The database keeps what is owed; the sweep does it (docs/escalation.md §8).
# Workers reconnect by their own consumer policy (broker_connection_retry), not by these.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    "max_retries": 0,
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=0.25),
    # A worker that consumes several queues takes from them in the order given (evaluations
    # first), not in turn (docs/operations.md §2).
    "queue_order_strategy": "priority",
}
# Evaluations have a queue of their own, ahead of e-mail and exports (docs/operations.md §2): a
# worker started without -Q consumes both, evaluations first; more workers may take only
# `-Q evaluations`. At most one evaluation per track waits in it (escalation/triggers.py).
EVALUATION_QUEUE = env("EVALUATION_QUEUE", default="evaluations")
CELERY_TASK_QUEUES = {EVALUATION_QUEUE: {}, CELERY_TASK_DEFAULT_QUEUE: {}}
CELERY_TASK_ROUTES = {"escalation.evaluate_and_announce": {"queue": EVALUATION_QUEUE}}
# Where the "an evaluation of this track is queued" markers live: the broker's Redis (shared by
# every web process and worker), or process memory when tasks run in process.
EVALUATION_MARKER_CACHE = "evaluation_markers"
# A marker whose task was lost expires after this; the sweep has evaluated the track by then.
EVALUATION_MARKER_SECONDS = env.int("EVALUATION_MARKER_SECONDS", default=300)
# The sweep evaluates whatever is owed (lost tasks, DLT windows that close with time) and sends
# unsent notifications: no decision is stale, and no SAE alert waits, longer than this interval.
# It runs under Celery beat and, without the broker, as `manage.py sweep --every SECONDS`
# (docker-compose's sweeper service), so a broker outage delays nothing beyond the interval.
EVALUATION_SWEEP_SECONDS = env.int("EVALUATION_SWEEP_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "escalation-sweep": {"task": "escalation.sweep", "schedule": EVALUATION_SWEEP_SECONDS},
    # The daily digest of queries (docs/quality.md §2); idempotent, so running it hourly sends
    # each person one digest a day at most.
    "quality-query-digest": {"task": "quality.query_digest", "schedule": 3600},
}

# The default cache stays per-process memory. API rate-limit counters get their own alias: Redis
# when REDIS_URL is set, so every web process counts together (api/throttling.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api_throttle": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "edc-api-throttle",
            "TIMEOUT": 3600,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    ),
    EVALUATION_MARKER_CACHE: (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "edc",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "markers"}
    ),
}

# The REST API (api/): tokens or a signed-in session, one error body, cursor pages, JSON or CSV.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JsonParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.renderers.FormatNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.UserRateThrottle",
        "api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_RATE_LIMIT", default="1200/minute"),
        "anon": env("API_ANON_RATE_LIMIT", default="60/minute"),
    },
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # Anonymous rate limits count per client address: X-Forwarded-For is read only behind
    # trusted proxies (0: ignored), as for the login-failure records (config/client_ip.py).
    "NUM_PROXIES": NUM_PROXIES,
}

# The OpenAPI document at /api/schema/, with Swagger UI at /api/docs/ and Redoc at /api/redoc/,
# their assets served by the app itself (drf-spectacular-sidecar; no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "Phase 1 EDC API",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge image from validator.swagger.io: the docs ask nothing of other hosts.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AdverseEventOutcomeEnum": "safety.models.AdverseEvent.Outcome",
        "CommitteeOutcomeEnum": "escalation.models.CommitteeDecision.Outcome",
        "CohortStatusEnum": "trial.models.Cohort.Status",
        "SubjectStatusEnum": "subjects.models.Subject.Status",
        "RecommendationStatusEnum": "escalation.models.Recommendation.Status",
        "DltStatusEnum": "escalation.models.SubjectDltStatus.Status",
        "ExportStatusEnum": "standards.models.Export.Status",
        "AdaOutcomeEnum": "pharmacology.models.AdaResult.Outcome",
        "PkSampleStatusEnum": "pharmacology.models.Sample.Status",
        "PkSampleKindEnum": "pharmacology.models.SampleKind",
        "LabImportStatusEnum": "pharmacology.models.LabImport.Status",
        "LabImportKindEnum": "pharmacology.models.LabImport.Kind",
        "SurvivalStatusEnum": "visits.models.SurvivalContact.Status",
        # The AJCC stage groups, at diagnosis and at study entry (docs/visits.md §11.2).
        "AjccStageEnum": "visits.rules.history.STAGE_CHOICES",
        "TumourAssessmentKindEnum": "efficacy.models.TumourAssessment.Kind",
        "LesionStatusEnum": "efficacy.models.STATUS_CHOICES",
        # CDISC CT values (docs/subjects.md): ETHNIC, RACE, NCOMPLT per end.
        "EthnicityEnum": "subjects.models.ETHNICITY_CHOICES",
        "RaceEnum": "subjects.models.RACE_CHOICES",
        "EndOfTreatmentReasonEnum": "subjects.models.END_OF_TREATMENT_REASON_CHOICES",
        "EndOfStudyReasonEnum": "subjects.models.END_OF_STUDY_REASON_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.postprocess",
    ],
}

# One JSON object per line with the request id (docs/operations.md §4); LOG_FORMAT=text for
# plain lines (the default with DEBUG=1).
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "operations.requests.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# /health/ (docs/operations.md §3): a worker is missing after this many seconds without a
# heartbeat; a queue longer than HEALTH_QUEUE_WARNING is reported.
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=15)
HEALTH_WORKER_STALE_SECONDS = env.int(
    "HEALTH_WORKER_STALE_SECONDS", default=3 * WORKER_HEARTBEAT_SECONDS
)
HEALTH_QUEUE_WARNING = env.int("HEALTH_QUEUE_WARNING", default=100)
