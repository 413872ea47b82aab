"""Imports every network module so that its constructors register. One line per model file."""

import inpaint_studio.networks.context_encoder  # noqa: F401
import inpaint_studio.networks.deepfill_v1  # noqa: F401
import inpaint_studio.networks.deepfill_v2  # noqa: F401
import inpaint_studio.networks.deepfill_v2_prefill  # noqa: F401
import inpaint_studio.networks.edgeconnect  # noqa: F401
import inpaint_studio.networks.glcic  # noqa: F401
import inpaint_studio.networks.hed  # noqa: F401
import inpaint_studio.networks.mark_net  # noqa: F401
import inpaint_studio.networks.pggan  # noqa: F401
import inpaint_studio.networks.stain_net  # noqa: F401
import inpaint_studio.networks.texture_fusion  # noqa: F401
import inpaint_studio.networks.vcnet  # noqa: F401
import inpaint_studio.networks.vcnet_fine  # noqa: F401
import inpaint_studio.networks.vcnet_hed  # noqa: F401
