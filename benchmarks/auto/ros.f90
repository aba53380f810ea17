! Roessler system x' = -y - z, y' = x + a y, z' = b + z (x - c); PAR(1) = a, PAR(2) = b, PAR(3) = c.
! The model file of benchmarks/bench_periodic.py (AUTO-07p): the equilibrium at a = -0.1, then a
! Hopf point and the branch of periodic orbits from it (pathtrack_problems.rossler is the same system).
SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC
  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)
  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)
  F(1) = -U(2) - U(3)
  F(2) = U(1) + PAR(1)*U(2)
  F(3) = PAR(2) + U(3)*(U(1) - PAR(3))
  IF (IJAC == 0) RETURN
  DFDU(1,1) = 0d0
  DFDU(1,2) = -1d0
  DFDU(1,3) = -1d0
  DFDU(2,1) = 1d0
  DFDU(2,2) = PAR(1)
  DFDU(2,3) = 0d0
  DFDU(3,1) = U(3)
  DFDU(3,2) = 0d0
  DFDU(3,3) = U(1) - PAR(3)
  IF (IJAC == 1) RETURN
  DFDP(1,1) = 0d0
  DFDP(2,1) = U(2)
  DFDP(3,1) = 0d0
END SUBROUTINE FUNC

SUBROUTINE STPNT(NDIM,U,PAR,T)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM
  DOUBLE PRECISION, INTENT(INOUT) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(IN) :: T
  DOUBLE PRECISION :: z
  PAR(1) = -0.1d0
  PAR(2) = 0.2d0
  PAR(3) = 5.7d0
  z = 2*PAR(2)/(PAR(3) + SQRT(PAR(3)**2 - 4*PAR(1)*PAR(2)))
  U(1) = PAR(1)*z
  U(2) = -z
  U(3) = z
END SUBROUTINE STPNT

INCLUDE 'stubs.inc'
