"""The phase engine: the phase contract, journal, store/lock, events and the engine itself."""
