from django.db import migrations

# The functions that read past the policy with one static query (not EXECUTE) are planned
# by PL/pgSQL once per session and, from the sixth call on, may keep a generic plan: one
# that knows neither the organisation nor the arguments. crm_contacts_by_other_email's
# walked the primary key through every contact of the organisation instead of asking the
# GIN index: 20 to 30 ms a call with 1,000,000 contacts, against 0.2 ms. Planned for their
# arguments on every call, they ask the index each time. Altered as the owner's role, whose
# member the migration's role is (0016).
FUNCTIONS = ("crm_contacts_by_other_email(text[])", "crm_search_words_unused(text[])")
ALTER = "".join(f"ALTER FUNCTION {f} SET plan_cache_mode = force_custom_plan;\n" for f in FUNCTIONS)
UNDO = "".join(f"ALTER FUNCTION {f} RESET plan_cache_mode;\n" for f in FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0020_spells_are_past_ones")]

    operations = [migrations.RunSQL(ALTER, UNDO)]
