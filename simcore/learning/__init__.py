"""Learning: exact gradients (EventProp), a finite-difference oracle, losses, optimisers, tasks
and the trainer behind ``evsim train`` and ``evsim gradcheck``.

    net = network.build(netspec.expand(netlist))      # lif_exp networks in exact mode
    spikes = eventprop.forward(net, trials)
    gw, gd = eventprop.backward(net, spikes, dl_dt)   # dL/dweight, dL/ddelay per synapse
"""
