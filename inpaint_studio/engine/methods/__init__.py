"""Imports every module that registers engine methods. Each helper module keeps torch imports lazy
(inside load()/inpaint()), so listing methods never imports torch."""

import inpaint_studio.engine.methods.auto_fill  # noqa: F401
import inpaint_studio.engine.methods.classical  # noqa: F401
import inpaint_studio.engine.methods.classical_restore  # noqa: F401
import inpaint_studio.engine.methods.context_encoder  # noqa: F401
import inpaint_studio.engine.methods.deepfill_v1  # noqa: F401
import inpaint_studio.engine.methods.deepfill_v2  # noqa: F401
import inpaint_studio.engine.methods.edge_guided  # noqa: F401
import inpaint_studio.engine.methods.edgeconnect  # noqa: F401
import inpaint_studio.engine.methods.glcic  # noqa: F401
import inpaint_studio.engine.methods.patchmatch  # noqa: F401
import inpaint_studio.engine.methods.pggan  # noqa: F401
import inpaint_studio.engine.methods.vcnet  # noqa: F401
