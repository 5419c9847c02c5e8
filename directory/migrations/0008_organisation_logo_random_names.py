from django.db import migrations, models

import directory.models


class Migration(migrations.Migration):
    # New logos get random names (core.files.random_name); those already stored keep theirs.

    dependencies = [("directory", "0007_service_facets")]

    operations = [
        migrations.AlterField(
            model_name="organisation",
            name="logo",
            field=models.ImageField(blank=True, upload_to=directory.models._logo_path, verbose_name="logo"),
        ),
    ]
