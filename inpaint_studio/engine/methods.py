"""Imports every module that registers engine methods. Each helper module keeps torch imports lazy
(inside load()/inpaint()), so listing methods never imports torch."""

import inpaint_studio.engine.auto_fill  # noqa: F401
import inpaint_studio.engine.classical  # noqa: F401
import inpaint_studio.engine.context_encoder_method  # noqa: F401
import inpaint_studio.engine.deepfill_v1_method  # noqa: F401
import inpaint_studio.engine.deepfill_v2_method  # noqa: F401
import inpaint_studio.engine.detector  # noqa: F401
import inpaint_studio.engine.edge_guided_method  # noqa: F401
import inpaint_studio.engine.edgeconnect_method  # noqa: F401
import inpaint_studio.engine.glcic_method  # noqa: F401
import inpaint_studio.engine.patchmatch_method  # noqa: F401
import inpaint_studio.engine.pggan_method  # noqa: F401
import inpaint_studio.engine.vcnet_method  # noqa: F401
