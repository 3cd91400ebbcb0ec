"""The V2 inference protocol over gRPC: ``model-service serve --grpc-port N``.

* ``grpc_predict_v2.proto`` and its generated stubs (``make grpc-stubs``);
* :mod:`.tensors`: protobuf tensors <-> the infer core's shapes;
* :mod:`.servicer`: the service's methods, run inside the Flask app;
* :mod:`.processes`: the gRPC server processes the gunicorn master forks and watches.
"""
