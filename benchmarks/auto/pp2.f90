! Predator-prey model of AUTO-07p's demo pp2 (pathtrack_problems' predprey):
! u1' = p2 u1 (1 - u1) - u1 u2 - p1 (1 - exp(-p3 u1)),  u2' = -u2 + p4 u1 u2; PAR(1) = p1.
! Started on the coexistence branch u1 = 1/p4 at p1 = 0.5; its cycles from the Hopf point end at
! a homoclinic orbit to the saddle on the prey-only branch (the period diverges, the orbit stays bounded).
SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC
  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)
  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)
  DOUBLE PRECISION :: e
  e = EXP(-PAR(3)*U(1))
  F(1) = PAR(2)*U(1)*(1 - U(1)) - U(1)*U(2) - PAR(1)*(1 - e)
  F(2) = -U(2) + PAR(4)*U(1)*U(2)
  IF (IJAC == 0) RETURN
  DFDU(1,1) = PAR(2)*(1 - 2*U(1)) - U(2) - PAR(1)*PAR(3)*e
  DFDU(1,2) = -U(1)
  DFDU(2,1) = PAR(4)*U(2)
  DFDU(2,2) = -1 + PAR(4)*U(1)
  IF (IJAC == 1) RETURN
  DFDP(1,1) = -(1 - e)
  DFDP(2,1) = 0
END SUBROUTINE FUNC

SUBROUTINE STPNT(NDIM,U,PAR,T)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM
  DOUBLE PRECISION, INTENT(INOUT) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(IN) :: T
  PAR(1) = 0.5d0
  PAR(2) = 3d0
  PAR(3) = 5d0
  PAR(4) = 3d0
  U(1) = 1/PAR(4)
  U(2) = PAR(2)*(1 - U(1)) - PAR(1)*(1 - EXP(-PAR(3)*U(1)))/U(1)
END SUBROUTINE STPNT

INCLUDE 'stubs.inc'
