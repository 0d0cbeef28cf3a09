from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from crm.contributions import org_urls, public_urls
from crm.records.urls import org_patterns as record_patterns
from crm.views import platform

# Operators log in to the admin through allauth, so its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Kestrel CRM operations"

# Everything an organisation owns lives under /o/<org_slug>/; the middleware resolves it.
# The platform's own pages, every record kind's shared ones, then each app's (registered
# from its AppConfig.ready(), see crm.contributions).
org_patterns = [
    path("", include("crm.org_urls")),
    *record_patterns(),
    *(path("", include(module)) for module in org_urls()),
]

urlpatterns = [
    path("", platform.home, name="home"),
    path("healthz", platform.healthz, name="healthz"),
    path("favicon.ico", platform.favicon),
    path("organizations/new/", platform.org_new, name="org_new"),
    path("invitations/<str:token>/", platform.invitation_accept, name="invitation_accept"),
    path("accounts/signup/", platform.signup, name="account_signup"),
    path("accounts/profile/", platform.account_profile, name="account_profile"),
    path("accounts/", include("allauth.urls")),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("admin/", admin.site.urls),
    # Outside /o/<org_slug>/: each resolves its organisation itself (crm.contributions).
    *(path("", include(module)) for module in public_urls()),
]

handler400 = platform.bad_request
handler500 = platform.server_error
