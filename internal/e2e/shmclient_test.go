package e2e

const shmclientEnv = "QUBE_E2E_SHMCLIENT"

func shmclientMain() int { return 1 }
