// Partner of the process-mode ping-pong: see XsaveLab.Sim.Measure.PingPongPartner.
return XsaveLab.Sim.Measure.PingPongPartner.Run(args);
